#!/usr/bin/env bash
# Refresh the FR/NL/EN catalogues from the source and compile them. The catalogues carry no
# source locations and are sorted by message. To merge branches that both add messages, let git
# combine the catalogues with msgcat (.gitattributes names the driver; a plain line merge can
# splice two entries into one):
#   git config merge.po.driver 'msgcat --use-first --sort-output --no-location -o %A %A %B'
# then run this script again to drop what the merged source no longer uses and recompile.
set -euo pipefail
cd "$(dirname "$0")/../service/src/ledgerdrop"
UV=$(command -v uv 2>/dev/null || echo ../../../.tools/bin/uv)
"$UV" run ledgerdrop manage makemessages -l fr -l nl -l en --no-location --no-obsolete \
  --ignore 'tests/*' --ignore '*/tests/*' >/dev/null
for po in locale/*/LC_MESSAGES/django.po; do
  msgcat --sort-output --no-location -o "$po" "$po"
done
"$UV" run ledgerdrop manage compilemessages >/dev/null
