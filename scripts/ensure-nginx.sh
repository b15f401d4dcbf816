#!/usr/bin/env bash
# The several-machines system test puts Debian's nginx in front of two nodes, as the README's
# "Running on several machines" does. Installed from Debian's packages when missing.
set -euo pipefail
command -v nginx >/dev/null || [ -x /usr/sbin/nginx ] && exit 0
echo "Installing the load balancer of the several-machines test: nginx-light…"
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq nginx-light >/dev/null
