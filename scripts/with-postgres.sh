#!/usr/bin/env bash
# Run a command with DATABASE_URL pointing at PostgreSQL: the server on 127.0.0.1:5432 when one
# answers (user postgres, no password), else a throwaway server started here and removed after.
set -euo pipefail
if pg_isready -q -h 127.0.0.1 -p 5432 2>/dev/null; then
  export DATABASE_URL="postgres://postgres@127.0.0.1:5432/ledgerdrop"
  exec "$@"
fi

bindir=$(dirname "$(command -v initdb 2>/dev/null || ls -d /usr/lib/postgresql/*/bin/initdb | tail -1)")
[ -x "$bindir/initdb" ] || { echo "PostgreSQL is not installed: apt-get install postgresql" >&2; exit 1; }
tmp=$(mktemp -d)
port=54329
run_as=()
if [ "$(id -u)" -eq 0 ]; then
  # initdb refuses to run as root.
  id postgres >/dev/null 2>&1 || useradd --system --no-create-home postgres
  chown postgres "$tmp"
  run_as=(runuser -u postgres --)
fi
"${run_as[@]}" "$bindir/initdb" -D "$tmp/data" -U postgres -A trust >/dev/null
"${run_as[@]}" "$bindir/pg_ctl" -D "$tmp/data" -l "$tmp/log" -w \
  -o "-p $port -k $tmp -c listen_addresses=127.0.0.1 -c fsync=off" start >/dev/null
trap '"${run_as[@]}" "$bindir/pg_ctl" -D "$tmp/data" -m immediate stop >/dev/null; rm -rf "$tmp"' EXIT
export DATABASE_URL="postgres://postgres@127.0.0.1:$port/ledgerdrop"
"$@"
