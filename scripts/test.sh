#!/usr/bin/env bash
# The whole test suite, from a fresh clone on a fresh machine:
# installs Node/pnpm, the real Envoy/Kafka/PostgreSQL/Redis, the dependencies, then runs
# lint, typecheck, unit tests, and the integration/end-to-end tests against real infrastructure.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/bootstrap.sh
bash scripts/infra/setup.sh
pnpm install --frozen-lockfile

log="$(mktemp)"
trap 'rm -f "$log"' EXIT
pnpm exec prettier --check . >/dev/null || { pnpm exec prettier --check .; exit 1; }
pnpm exec turbo run build lint typecheck test --output-logs=full 2>&1 | tee -a "$log"
# Integration suites start real servers; one package at a time keeps a 2-core machine honest.
pnpm exec turbo run test:integration --concurrency=1 2>&1 | tee -a "$log"

# One closing line for the whole run, summed over every Vitest summary above.
sed 's/\x1b\[[0-9;]*m//g' "$log" | awk '
  /Tests +[0-9]/ {
    for (i = 1; i <= NF; i++) {
      if ($(i + 1) ~ /^passed/) passed += $i
      if ($(i + 1) ~ /^failed/) failed += $i
      if ($(i + 1) ~ /^skipped/) skipped += $i
    }
  }
  END { printf "%d passed, %d failed, %d skipped\n", passed, failed, skipped }'
