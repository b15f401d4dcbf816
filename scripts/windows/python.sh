#!/usr/bin/env bash
# The Windows Python of the test leg, under Wine: `scripts/windows/python.sh -m pytest …`.
# Prepared by `scripts/windows/prepare.sh` (make test-windows).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
export WINEPREFIX="${WINEPREFIX:-$root/.tools/windows/prefix}"
export WINEDEBUG="${WINEDEBUG:--all}"
python="$root/.tools/windows/current/python/python.exe"
if [ -f /proc/self/fd/1 ] || [ -f /proc/self/fd/2 ]; then
    # Under Wine 8, Python cannot use a standard stream redirected to a file: through pipes.
    /usr/lib/wine/wine64 "$python" "$@" > >(cat) 2> >(cat >&2)
else
    exec /usr/lib/wine/wine64 "$python" "$@"  # one process: signals reach the agent itself
fi
