#!/usr/bin/env bash
# Refresh the FR/NL/EN catalogues from the source and compile them. The catalogues carry no
# source locations and are sorted by message, so that two branches adding messages rarely touch
# the same lines (and a merge conflict is two entries side by side, easy to keep both).
set -euo pipefail
cd "$(dirname "$0")/../service/src/ledgerdrop"
UV=$(command -v uv 2>/dev/null || echo ../../../.tools/bin/uv)
"$UV" run ledgerdrop manage makemessages -l fr -l nl -l en --no-location --no-obsolete \
  --ignore 'tests/*' --ignore '*/tests/*' >/dev/null
for po in locale/*/LC_MESSAGES/django.po; do
  msgcat --sort-output --no-location -o "$po" "$po"
done
"$UV" run ledgerdrop manage compilemessages >/dev/null
