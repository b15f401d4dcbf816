{% autoescape off %}#!/bin/sh
# Installs the Ledgerdrop downloader (ledgerdrop-agent) from {{ server }}:
# into a virtual environment of its own, pairs this machine with the firm, and makes it start
# with the machine (a systemd user unit, or a system unit when run as root).
#
#   curl -fsSL <server>/downloads/agent/install.sh | LEDGERDROP_ENROLMENT_KEY=<key> sh
#
# Settings, all optional, as environment variables:
#   LEDGERDROP_ENROLMENT_KEY  a one-time key from the firm's page; without it, pairing shows a
#                             code to enter under "Download devices"
#   LEDGERDROP_DEVICE_NAME    how the device is listed (default: the host name)
#   LEDGERDROP_INSTALL_FOR    "user" (a user unit, files under ~/.local) or "machine" (a system
#                             unit, /opt and /var/lib; needs root); default: machine as root
#   LEDGERDROP_AGENT_HOME     where the downloader keeps its state (default for the machine:
#                             /var/lib/ledgerdrop-agent)
#   LEDGERDROP_INSTALL_DIR    its virtual environment (default: ~/.local/share/ledgerdrop-agent-venv,
#                             for the machine /opt/ledgerdrop-agent)
#   LEDGERDROP_NO_START=1     write the service but do not start it now
#   LEDGERDROP_PYTHON         the Python 3.11+ to use (default: python3)
#   LEDGERDROP_PIP_OPTIONS    extra options for pip, e.g. "--index-url https://mirror/simple"
set -eu

SERVER={{ server }}
AGENT_VERSION={{ agent_version }}
PROTOCOL_VERSION={{ protocol_version }}
FIND_LINKS="$SERVER/downloads/agent/"

say() { printf '%s\n' "$*"; }
fail() { printf 'ledgerdrop install: %s\n' "$*" >&2; exit 1; }

if [ "$(id -u)" -eq 0 ]; then DEFAULT_FOR=machine; else DEFAULT_FOR=user; fi
case "${LEDGERDROP_INSTALL_FOR:-$DEFAULT_FOR}" in
    machine) FOR_MACHINE=1 ;;
    user) FOR_MACHINE=0 ;;
    *) fail "LEDGERDROP_INSTALL_FOR is \"user\" or \"machine\", not \"$LEDGERDROP_INSTALL_FOR\"." ;;
esac
if [ "$FOR_MACHINE" -eq 1 ]; then
    [ "$(id -u)" -eq 0 ] || fail "installing for the machine needs root: run it with sudo, or set LEDGERDROP_INSTALL_FOR=user."
    INSTALL_DIR="${LEDGERDROP_INSTALL_DIR:-/opt/ledgerdrop-agent}"
    BIN_DIR=/usr/local/bin
    LEDGERDROP_AGENT_HOME="${LEDGERDROP_AGENT_HOME:-/var/lib/ledgerdrop-agent}"
    export LEDGERDROP_AGENT_HOME
else
    INSTALL_DIR="${LEDGERDROP_INSTALL_DIR:-${XDG_DATA_HOME:-$HOME/.local/share}/ledgerdrop-agent-venv}"
    BIN_DIR="$HOME/.local/bin"
fi

PYTHON="${LEDGERDROP_PYTHON:-python3}"
command -v "$PYTHON" >/dev/null 2>&1 \
    || fail "$PYTHON is not installed. Install Python 3.11 or newer (Debian/Ubuntu: sudo apt install python3 python3-venv), then run this again."
"$PYTHON" -c 'import sys; sys.exit(sys.version_info < (3, 11))' \
    || fail "the downloader needs Python 3.11 or newer; $PYTHON is $("$PYTHON" -V 2>&1). Set LEDGERDROP_PYTHON to a newer one."

say "Installing the Ledgerdrop downloader $AGENT_VERSION from $SERVER into $INSTALL_DIR"
if [ ! -x "$INSTALL_DIR/bin/python" ]; then
    "$PYTHON" -m venv "$INSTALL_DIR" \
        || fail "could not create a virtual environment in $INSTALL_DIR (Debian/Ubuntu: sudo apt install python3-venv)."
fi
PIP="$INSTALL_DIR/bin/python -m pip --disable-pip-version-check --quiet"
# First the two packages of this server, from this server only (never a same-named package
# from another index), then their dependencies from the usual index.
# shellcheck disable=SC2086  # the options are words on purpose
$PIP install ${LEDGERDROP_PIP_OPTIONS:-} --no-index --no-deps --find-links "$FIND_LINKS" \
    "ledgerdrop-protocol==$PROTOCOL_VERSION" "ledgerdrop-agent==$AGENT_VERSION" \
    || fail "could not fetch the downloader from $FIND_LINKS (see pip's message above)."
# shellcheck disable=SC2086
$PIP install ${LEDGERDROP_PIP_OPTIONS:-} --find-links "$FIND_LINKS" \
    "ledgerdrop-protocol==$PROTOCOL_VERSION" "ledgerdrop-agent==$AGENT_VERSION" \
    || fail "could not install the downloader's dependencies (see pip's message above). Behind a proxy or mirror, pass pip's options in LEDGERDROP_PIP_OPTIONS."

AGENT="$INSTALL_DIR/bin/ledgerdrop-agent"
mkdir -p "$BIN_DIR"
ln -sf "$AGENT" "$BIN_DIR/ledgerdrop-agent"
say "Installed: $AGENT (linked from $BIN_DIR/ledgerdrop-agent)"

if "$AGENT" status >/dev/null 2>&1; then
    say "This machine is already paired; to pair it again: ledgerdrop-agent unpair, then run this again."
elif [ -n "${LEDGERDROP_ENROLMENT_KEY:-}" ]; then
    "$AGENT" pair --server "$SERVER" --enrolment-key "$LEDGERDROP_ENROLMENT_KEY" \
        ${LEDGERDROP_DEVICE_NAME:+--name "$LEDGERDROP_DEVICE_NAME"} \
        || fail "pairing failed (see above). Create a new key on the firm's page, then run this again."
else
    "$AGENT" pair --server "$SERVER" ${LEDGERDROP_DEVICE_NAME:+--name "$LEDGERDROP_DEVICE_NAME"} \
        || fail "pairing failed (see above); run this again to get a new code."
fi
unset LEDGERDROP_ENROLMENT_KEY

# Start it with the machine. Where systemd is not running (a container, WSL without systemd),
# the unit is written but not started: say so, and how to run the downloader instead.
if [ "$FOR_MACHINE" -eq 1 ]; then
    SCOPE=""
    systemd_ready() { [ -d /run/systemd/system ]; }
else
    SCOPE="--user"
    systemd_ready() { [ -d /run/systemd/system ] && systemctl --user show-environment >/dev/null 2>&1; }
fi
if [ "${LEDGERDROP_NO_START:-0}" = 1 ]; then
    "$AGENT" service install $SCOPE --no-enable \
        || fail "the downloader is paired but its service unit could not be written (see above)."
    say "As asked (LEDGERDROP_NO_START=1), the downloader was not started."
elif command -v systemctl >/dev/null 2>&1 && systemd_ready; then
    "$AGENT" service install $SCOPE \
        || fail "the downloader is paired but its service could not be installed (see above)."
    # After an upgrade the running downloader is still the old one.
    systemctl $SCOPE try-restart ledgerdrop-agent.service || true
else
    "$AGENT" service install $SCOPE --no-enable \
        || fail "the downloader is paired but its service unit could not be written (see above)."
    if [ -d /run/systemd/system ]; then
        say "This session cannot reach systemd's user manager, so the downloader was not started."
        say "From a login session, start it with:"
        say "    systemctl --user daemon-reload && systemctl --user enable --now ledgerdrop-agent.service"
        say "and, as root, let it run without anybody logged in: loginctl enable-linger $(id -un)"
    else
        say "systemd is not running here, so the downloader was not started. Start it with:"
        say "    $AGENT run"
    fi
fi
case ":$PATH:" in
    *":$BIN_DIR:"*) say "Done. Check it with: ledgerdrop-agent status" ;;
    *) say "Done. Check it with: $BIN_DIR/ledgerdrop-agent status ($BIN_DIR is not in your PATH)" ;;
esac
{% endautoescape %}
