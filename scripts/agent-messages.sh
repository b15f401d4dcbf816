#!/usr/bin/env bash
# Refresh the downloader's catalogues (French and Dutch; English is the source) from its code,
# sorted and without locations like the service's, and compile them into the package.
set -euo pipefail
cd "$(dirname "$0")/../agent/src/ledgerdrop_agent"
template=$(mktemp)
trap 'rm -f "$template"' EXIT
xgettext --language=Python --from-code=UTF-8 --keyword=_ --keyword=ngettext:1,2 \
  --no-location --sort-output --package-name=ledgerdrop-agent -o "$template" ./*.py
for language in fr nl; do
  po=locale/$language/LC_MESSAGES/ledgerdrop_agent.po
  if [ -f "$po" ]; then
    msgmerge --quiet --no-fuzzy-matching --update --backup=none "$po" "$template"
  else
    mkdir -p "$(dirname "$po")"
    msginit --no-translator --locale="$language" --input="$template" --output-file="$po"
  fi
  msgattrib --no-obsolete --no-location --sort-output -o "$po" "$po"
  msgfmt --check -o "${po%.po}.mo" "$po"
done
