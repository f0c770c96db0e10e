#!/usr/bin/env bash
# The whole local stack, from a fresh clone on a fresh machine: installs everything, then
# `turbo run dev` starts Postgres/Redis/Kafka, every app and the Envoy front proxy (:8080).
# Ctrl-C stops everything cleanly.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/bootstrap.sh
bash scripts/infra/setup.sh
pnpm install --frozen-lockfile
exec pnpm exec turbo run dev --ui=stream --concurrency=16
