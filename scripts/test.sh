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
bg="$(mktemp -d)"
bg_pids=()
finish() {
  local ids pid
  # A background step still running (the run failed): its whole process group.
  for pid in "${bg_pids[@]}"; do kill -- "-$pid" 2>/dev/null || true; done
  ids="$(docker ps -aq --filter label=edge.testkit 2>/dev/null || true)"
  [[ -z "$ids" ]] || docker rm -f -v $ids >/dev/null 2>&1 || true
  edge_docker_down
  rm -rf "$log" "$bg"
}
trap finish EXIT
# wait_bg <name>: waits for a background step, shows its log (and adds it to the run's log for
# the closing count), fails the run if it failed.
wait_bg() {
  local rc=0
  wait "$(cat "$bg/$1.pid")" || rc=$?
  cat "$bg/$1.log" >&2
  cat "$bg/$1.log" >>"$log"
  [[ $rc -eq 0 ]] || { echo "[test] background step $1 failed ($rc)" >&2; exit "$rc"; }
}
run_bg() { # run_bg <name> <command...>: a slow independent step, in the background
  local name="$1"
  shift
  setsid "$@" >"$bg/$name.log" 2>&1 &
  echo $! >"$bg/$name.pid"
  bg_pids+=($!)
}
t0=$SECONDS
edge_docker_up
# Containers an earlier, interrupted run left (e.g. one that ran out of disk before its own
# clean-up) are not this run's leak: remove them first, so the check at the end sees only ours.
stale="$(docker ps -aq --filter label=edge.testkit)"
[[ -z "$stale" ]] || { echo "[test] removing containers an earlier run left: $stale" >&2; docker rm -f -v $stale >/dev/null; }

# Slow steps that need nothing from the workspace build run beside it: Helm built from the Go
# module proxy (minutes on a fresh machine) and the images of the base and the infrastructure.
run_bg chart-tools bash deploy/check-charts.sh --install-only
run_bg infra-images bash deploy/docker/build-images.sh base node postgres redis kafka

pnpm exec prettier --check . >/dev/null || { pnpm exec prettier --check .; exit 1; }
pnpm exec turbo run build lint typecheck test --output-logs=full 2>&1 | tee -a "$log"
echo "[test] build, lint, typecheck, unit: $((SECONDS - t0)) s" >&2
# The app images and Envoy's (they need the workspace build); unchanged layers are reused.
wait_bg infra-images
bash deploy/docker/build-images.sh $(node -e 'console.log(Object.keys(require("./deploy/apps.json").apps).join(" "))') envoy
echo "[test] images: $((SECONDS - t0)) s" >&2
# The end-to-end suite on testcontainers (every part, Postgres, Redis, Kafka, the apps and the
# Envoys, a container of its image) runs beside the local suites: the audit log first, on its
# own (its Kafka outage holds 100 requests/s through three processors while the broker's
# container stops and starts, and beside a second stack on 2 cores its authn calls passed the
# 1 s message timeout), then the other files two at a time.
# Not xds.e2e-spec.ts: its Envoys bootstrap from the control plane with SDS files on the host
# (it runs on local processes above, and apps/control-plane's own suite covers it with real Envoys).
run_bg e2e-testcontainers env EDGE_INFRA_BACKEND=testcontainers bash -c '
  set -euo pipefail
  pnpm --filter @edge/e2e test:integration test/audit-log.e2e-spec.ts
  pnpm --filter @edge/e2e test:integration --fileParallelism --maxWorkers=2 \
    --exclude test/xds.e2e-spec.ts --exclude test/audit-log.e2e-spec.ts'
wait_bg chart-tools
bash deploy/check-charts.sh
echo "[test] charts: $((SECONDS - t0)) s" >&2
# Integration suites start real servers; one package at a time keeps a 2-core machine honest.
pnpm exec turbo run test:integration --concurrency=1 2>&1 | tee -a "$log"
echo "[test] integration + e2e (local processes): $((SECONDS - t0)) s" >&2
pnpm --filter @edge/e2e test:compose 2>&1 | tee -a "$log"
echo "[test] compose quickstart: $((SECONDS - t0)) s" >&2
wait_bg e2e-testcontainers
echo "[test] e2e (testcontainers): $((SECONDS - t0)) s" >&2
# The testkit removes containers in the background after stopping them (vfs deletes take
# seconds, overlay2 ones less): give removals in progress up to 2 minutes, then anything left
# is a leak.
left=""
for _ in $(seq 60); do
  left="$(docker ps -aq --filter label=edge.testkit)"
  [[ -n "$left" ]] || break
  sleep 2
done
[[ -z "$left" ]] || { echo "testcontainers backend left containers behind: $left" >&2; exit 1; }

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
