#!/usr/bin/env bash
# The whole test suite, from a fresh clone on a fresh machine:
# installs Node/pnpm, the real Envoy/Kafka/PostgreSQL/Redis, the dependencies, then runs
# lint, typecheck, unit tests, and the integration/end-to-end tests against real infrastructure.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/bootstrap.sh
bash scripts/infra/setup.sh
pnpm install --frozen-lockfile
pnpm exec turbo run build lint typecheck test --output-logs=errors-only
pnpm exec prettier --check . >/dev/null || { pnpm exec prettier --check .; exit 1; }
# Integration suites start real servers; one package at a time keeps a 2-core machine honest.
pnpm exec turbo run test:integration --concurrency=1
