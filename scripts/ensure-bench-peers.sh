#!/usr/bin/env bash
# The delivery benchmark measures Ledgerdrop against peers in the same run: rclone copying the
# same files from nginx. Both come from Debian's packages.
set -euo pipefail
missing=()
command -v rclone >/dev/null || missing+=(rclone)
command -v nginx >/dev/null || [ -x /usr/sbin/nginx ] || missing+=(nginx-light)
[ ${#missing[@]} -eq 0 ] && exit 0
echo "Installing the benchmark's peers: ${missing[*]}…"
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${missing[@]}" >/dev/null
