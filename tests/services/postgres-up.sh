#!/usr/bin/env bash
# Starts a throw-away PostgreSQL cluster on 127.0.0.1 (port $2, default 55432), as root, for the
# tests that share a store between processes. Does nothing when it already answers. Data, socket
# and log live in $1 (default /tmp/harmonium-pg). The superuser `postgres` has the password
# `harmonium` over TCP (scram-sha-256), so a wrong password is refused as on a real server.
set -euo pipefail
# Tests run in parallel threads and each may call this: one start-up at a time, the others
# wait and then find the service up. The daemons started here do not inherit the lock (9>&-).
exec 9>/tmp/harmonium-pg-up.lock
flock 9
state=${1:-/tmp/harmonium-pg}
port=${2:-55432}
bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)
[ -n "$bin" ] && [ -x "$bin/initdb" ] || { echo "no PostgreSQL server (apt-get install postgresql)"; exit 1; }
id postgres >/dev/null 2>&1 || { echo "no postgres user (apt-get install postgresql)"; exit 1; }
ready() { "$bin/pg_isready" -q -h 127.0.0.1 -p "$port"; }
if ready; then exit 0; fi
mkdir -p "$state"
chown postgres:postgres "$state"
if [ ! -f "$state/data/PG_VERSION" ]; then
    rm -rf "$state/data"
    echo harmonium > "$state/pw"
    chown postgres:postgres "$state/pw"
    runuser -u postgres -- "$bin/initdb" -D "$state/data" -U postgres --pwfile="$state/pw" \
        --auth-local=trust --auth-host=scram-sha-256 -E UTF8 --locale=C >"$state/initdb.log" 2>&1 ||
        { cat "$state/initdb.log"; exit 1; }
fi
# A server that died leaves its pid file; pg_ctl start copes with a stale one.
runuser -u postgres -- "$bin/pg_ctl" -D "$state/data" -l "$state/log" -w -t 60 \
    -o "-k $state -p $port -c listen_addresses=127.0.0.1 -c max_connections=200 -c fsync=off" \
    start >/dev/null 9>&- || { tail -n 30 "$state/log"; exit 1; }
for _ in $(seq 1 60); do
    if ready; then exit 0; fi
    sleep 0.5
done
echo "PostgreSQL did not answer on 127.0.0.1:$port"
tail -n 30 "$state/log"
exit 1
