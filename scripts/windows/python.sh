#!/usr/bin/env bash
# The Windows Python of the test leg, under Wine: `scripts/windows/python.sh -m pytest …`.
# Prepared by `scripts/windows/prepare.sh` (make test-windows).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
export WINEPREFIX="${WINEPREFIX:-$root/.tools/windows/prefix}"
export WINEDEBUG="${WINEDEBUG:--all}"
# Through pipes: under Wine 8, Python cannot open a standard stream redirected to a file.
/usr/lib/wine/wine64 "$root/.tools/windows/current/python/python.exe" "$@" > >(cat) 2> >(cat >&2)
