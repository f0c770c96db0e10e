#!/usr/bin/env bash
set -euo pipefail
persist=(--save '' --appendonly no)
[[ "${REDIS_PERSIST:-0}" == 1 ]] && persist=(--save '60 1' --appendonly yes)
exec redis-server --port "$REDIS_PORT" --bind "$REDIS_LISTEN" --protected-mode no \
  --daemonize no --dir /data --logfile '' "${persist[@]}" "$@"
