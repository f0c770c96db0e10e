#!/usr/bin/env bash
# initdb on first start, create POSTGRES_DB, then run postgres in the foreground.
set -euo pipefail
: "${PGDATA:?}" "${POSTGRES_PORT:?}" "${POSTGRES_LISTEN:?}" "${POSTGRES_USER:?}" "${POSTGRES_DB:?}"
fast=(-c jit=off)
[[ "${POSTGRES_FAST:-0}" == 1 ]] && fast+=(-c fsync=off -c synchronous_commit=off -c full_page_writes=off)
if [[ ! -s "$PGDATA/PG_VERSION" ]]; then
  if [[ -n "${POSTGRES_PASSWORD:-}" ]]; then
    pwfile="$(mktemp)"
    printf '%s\n' "$POSTGRES_PASSWORD" >"$pwfile"
    # The unix socket is inside the container only; TCP (the way in from outside) needs the password.
    initdb -D "$PGDATA" -U "$POSTGRES_USER" --pwfile="$pwfile" --auth-local=trust --auth-host=scram-sha-256 -E UTF8 --locale=C --no-sync >/dev/null
    rm -f "$pwfile"
  elif [[ "${POSTGRES_TRUST_LOCAL:-0}" == 1 ]]; then
    initdb -D "$PGDATA" -U "$POSTGRES_USER" -A trust -E UTF8 --locale=C --no-sync >/dev/null
  else
    echo "postgres-entrypoint: set POSTGRES_PASSWORD (or POSTGRES_TRUST_LOCAL=1 for throwaway test databases)" >&2
    exit 64
  fi
  postgres -D "$PGDATA" -p "$POSTGRES_PORT" -c listen_addresses='' -c unix_socket_directories=/var/run/postgresql "${fast[@]}" &
  pid=$!
  for _ in $(seq 100); do pg_isready -q -h /var/run/postgresql -p "$POSTGRES_PORT" && break; sleep 0.1; done
  if [[ "$POSTGRES_DB" != postgres ]]; then
    # psql quotes the name (:"db"); variables are interpolated only in script input, not -c.
    echo 'CREATE DATABASE :"db";' | psql -q -h /var/run/postgresql -p "$POSTGRES_PORT" \
      -U "$POSTGRES_USER" -d postgres -v ON_ERROR_STOP=1 -v db="$POSTGRES_DB" >/dev/null
  fi
  kill -INT "$pid"
  wait "$pid" || true
fi
exec postgres -D "$PGDATA" -p "$POSTGRES_PORT" -c listen_addresses="$POSTGRES_LISTEN" \
  -c unix_socket_directories=/var/run/postgresql "${fast[@]}" "$@"
