#!/usr/bin/env bash
# The whole test suite, from a fresh clone on a fresh machine:
# installs Node/pnpm, the real Envoy/Kafka/PostgreSQL/Redis and Debian's Docker engine, the
# dependencies, then runs lint, typecheck, unit tests, builds every container image, checks the
# Helm charts, runs the integration/end-to-end tests against real infrastructure (local
# processes), the end-to-end suite again on testcontainers (the images), and the README
# quickstart against docker-compose. Starts dockerd if none runs, and stops what it started.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/bootstrap.sh
bash scripts/infra/setup.sh
pnpm install --frozen-lockfile
source scripts/docker-engine.sh

log="$(mktemp)"
finish() {
  local ids
  ids="$(docker ps -aq --filter label=edge.testkit 2>/dev/null || true)"
  [[ -z "$ids" ]] || docker rm -f -v $ids >/dev/null 2>&1 || true
  edge_docker_down
  rm -f "$log"
}
trap finish EXIT
edge_docker_up

pnpm exec prettier --check . >/dev/null || { pnpm exec prettier --check .; exit 1; }
pnpm exec turbo run build lint typecheck test --output-logs=full 2>&1 | tee -a "$log"
# Every image (base from Debian, then apps and infrastructure); unchanged layers are reused.
bash deploy/docker/build-images.sh
bash deploy/check-charts.sh
# Integration suites start real servers; one package at a time keeps a 2-core machine honest.
pnpm exec turbo run test:integration --concurrency=1 2>&1 | tee -a "$log"
# The same end-to-end suite, every part (Postgres, apps, Envoy) a container of its image.
EDGE_INFRA_BACKEND=testcontainers pnpm --filter @edge/e2e test:integration 2>&1 | tee -a "$log"
# ...and the testkit's backend-neutral Redis and Kafka tests (the e2e stack uses neither yet).
EDGE_INFRA_BACKEND=testcontainers pnpm --filter @edge/testkit exec vitest run \
  -c vitest.integration.config.mjs test/redis.int-spec.ts test/kafka.int-spec.ts 2>&1 | tee -a "$log"
left="$(docker ps -aq --filter label=edge.testkit)"
[[ -z "$left" ]] || { echo "testcontainers backend left containers behind: $left" >&2; exit 1; }
pnpm --filter @edge/e2e test:compose 2>&1 | tee -a "$log"

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
