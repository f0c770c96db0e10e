#!/usr/bin/env bash
# CI checks of the Helm charts, offline:
#   helm lint (every chart), helm template (each app chart; the platform with default and
#   production values), every rendered manifest validated against the Kubernetes API schemas
#   (PyPI kubernetes-validate, which ships them), the rendered front-proxy config validated by
#   the real Envoy (--mode validate), echo's sidecar config likewise, and renders that must fail (missing Envoy value, missing
#   Secret name) do fail.
# Installs pinned Helm (Go module proxy) and kubernetes-validate (PyPI) into .tools/ if missing.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT="$PWD"
HELM_VERSION="v3.21.4"
KUBEVAL_VERSION="1.37.0"
K8S_VERSION="${K8S_VERSION:-1.33.0}"   # the API version the manifests must be valid for
CHARTS="$ROOT/deploy/charts"
OUT="$ROOT/.local/charts"
log() { printf '[charts] %s\n' "$*" >&2; }
die() { printf '[charts] FAILED: %s\n' "$*" >&2; exit 1; }

HELM="$ROOT/.tools/helm-$HELM_VERSION/helm"
if [[ ! -x "$HELM" ]]; then
  log "installing helm $HELM_VERSION (go install from the Go module proxy)"
  command -v go >/dev/null || die "go is needed to install helm (go install from the Go module proxy)"
  GOBIN="$ROOT/.tools/helm-$HELM_VERSION" GOFLAGS=-mod=mod go install "helm.sh/helm/v3/cmd/helm@$HELM_VERSION"
fi
KV_VENV="$ROOT/.tools/kubernetes-validate-$KUBEVAL_VERSION"
if [[ ! -x "$KV_VENV/bin/kubernetes-validate" ]]; then
  log "installing kubernetes-validate $KUBEVAL_VERSION (PyPI)"
  rm -rf "$KV_VENV"
  /usr/bin/python3 -m venv "$KV_VENV"
  "$KV_VENV/bin/pip" install -q --disable-pip-version-check "kubernetes-validate==$KUBEVAL_VERSION"
fi
# `check-charts.sh --install-only`: just the tools (the test command starts it early, in the
# background, since building Helm from source is the slow part of a fresh run).
[[ "${1:-}" != "--install-only" ]] || { log "tools ready: $HELM, kubernetes-validate"; exit 0; }
# shellcheck disable=SC1091
source "$ROOT/.tools/infra.env"   # ENVOY_BIN

rm -rf "$OUT"
mkdir -p "$OUT"
checks=0
pass() { checks=$((checks + 1)); log "ok: $*"; }

# Library first, app charts next, the platform (which packs the app charts) last.
mapfile -t APPS < <(cd "$CHARTS" && for d in */Chart.yaml; do d="${d%/Chart.yaml}"; \
  [[ "$d" == edge-app || "$d" == edge-platform ]] || echo "$d"; done)
for chart in "${APPS[@]}" edge-platform; do
  "$HELM" dependency build "$CHARTS/$chart" >/dev/null 2>"$OUT/dep-$chart.log" ||
    { cat "$OUT/dep-$chart.log" >&2; die "helm dependency build $chart"; }
done
for chart in edge-app "${APPS[@]}" edge-platform; do
  "$HELM" lint --strict "$CHARTS/$chart" >"$OUT/lint-$chart.log" 2>&1 ||
    { cat "$OUT/lint-$chart.log" >&2; die "helm lint $chart"; }
  pass "helm lint $chart"
done

render() { # render <name> <chart> [helm args...]
  local name="$1" chart="$2"
  shift 2
  "$HELM" template edge "$CHARTS/$chart" --namespace edge "$@" >"$OUT/$name.yaml" 2>"$OUT/$name.err" ||
    { grep -v 'symbolic link' "$OUT/$name.err" >&2; die "helm template $name"; }
  pass "helm template $name ($(grep -c '^kind:' "$OUT/$name.yaml") objects)"
}
for chart in "${APPS[@]}"; do render "app-$chart" "$chart"; done
render platform-default edge-platform
render platform-production edge-platform -f "$CHARTS/edge-platform/values-production.yaml"

for f in "$OUT"/*.yaml; do
  # Only the Prometheus operator's ServiceMonitor (a CRD, optional) may lack a schema.
  "$KV_VENV/bin/kubernetes-validate" --strict --quiet -k "$K8S_VERSION" "$f" >"$f.validate" 2>&1 || true
  if grep -E '^(ERROR|WARN)' "$f.validate" | grep -v "Couldn't find schema for kind ServiceMonitor" | grep -q .; then
    cat "$f.validate" >&2
    die "$(basename "$f") is not valid for Kubernetes $K8S_VERSION"
  fi
  pass "$(basename "$f"): every manifest valid for Kubernetes $K8S_VERSION (strict)"
done
# The validator itself must reject a broken manifest (an unknown field, a wrong type).
printf 'apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: x}\nspec: {replicas: "two", selector: {}, template: {}, bogus: 1}\n' >"$OUT/broken.txt"
if "$KV_VENV/bin/kubernetes-validate" --strict --quiet -k "$K8S_VERSION" "$OUT/broken.txt" >/dev/null 2>&1; then
  die "kubernetes-validate accepted a broken Deployment"
fi
pass "a broken Deployment is rejected"

for values in default production; do
  cfg="$OUT/front-proxy-$values.envoy.yaml"
  "$KV_VENV/bin/python" - "$OUT/platform-$values.yaml" "$cfg" <<'PY'
import sys, yaml
docs = [d for d in yaml.safe_load_all(open(sys.argv[1])) if d]
cms = [d for d in docs if d["kind"] == "ConfigMap" and d["metadata"]["name"].endswith("-front-proxy")]
assert len(cms) == 1, f"expected one front-proxy ConfigMap, found {len(cms)}"
open(sys.argv[2], "w").write(cms[0]["data"]["envoy.yaml"])
PY
  "$ENVOY_BIN" --mode validate -c "$cfg" --log-level error >"$cfg.log" 2>&1 ||
    { cat "$cfg.log" >&2; die "envoy --mode validate: the front proxy config ($values values)"; }
  pass "envoy --mode validate: front proxy config ($values values)"
done
# Echo's sidecar (envoy/sidecar.yaml) as the echo chart renders it, in the platform and alone.
for name in platform-default platform-production app-echo; do
  cfg="$OUT/sidecar-$name.envoy.yaml"
  "$KV_VENV/bin/python" - "$OUT/$name.yaml" "$cfg" <<'PY'
import sys, yaml
docs = [d for d in yaml.safe_load_all(open(sys.argv[1])) if d]
cms = [d for d in docs if d["kind"] == "ConfigMap" and d["metadata"]["name"].endswith("-echo-sidecar")]
assert len(cms) == 1, f"expected one echo sidecar ConfigMap, found {len(cms)}"
open(sys.argv[2], "w").write(cms[0]["data"]["envoy.yaml"])
PY
  # The Wasm module is /etc/envoy/header-filter.wasm in the edge/envoy image; here the built one.
  sed "s#/etc/envoy/header-filter.wasm#$ROOT/packages/header-filter-wasm/dist/header-filter.wasm#" \
    "$cfg" >"$cfg.local.yaml"
  "$ENVOY_BIN" --mode validate -c "$cfg.local.yaml" --log-level error >"$cfg.log" 2>&1 ||
    { cat "$cfg.log" >&2; die "envoy --mode validate: echo's sidecar config ($name)"; }
  pass "envoy --mode validate: echo's sidecar config ($name)"
done
# One source: the charts' configs are byte for byte what envoy/'s renderer makes of the same values.
node -e '
  const { renderEnvoyConfig, headerFilterConfigValue, SIDECAR_HEADER_FILTER } = require("./envoy/dist");
  const svc = (app) => `edge-${app}.edge.svc.cluster.local`;
  const fs = require("node:fs");
  fs.writeFileSync(process.argv[1], renderEnvoyConfig("front-proxy", {
    LISTEN_HOST: "0.0.0.0", FRONT_PROXY_PORT: 8080, ADMIN_PORT: 9901,
    PER_CLIENT_RPS: 1000, PER_CLIENT_BURST: 2000,
    ECHO_HOST: svc("echo"), ECHO_PORT: 7110,
    AUTHN_PROCESSOR_HOST: svc("authn-processor"), AUTHN_PROCESSOR_PORT: 9001,
    IDEMPOTENCY_PROCESSOR_HOST: svc("idempotency-processor"), IDEMPOTENCY_PROCESSOR_PORT: 9002,
    LOGGING_PROCESSOR_HOST: svc("logging-processor"), LOGGING_PROCESSOR_PORT: 9003,
    LOGGING_ACCESS_LOG_PORT: 9203, LOGGING_DISABLED: false, LOGGING_OBSERVABILITY_MODE: true,
    CONSUMER_HOST: svc("consumer"), CONSUMER_PORT: 7300,
  }));
  // Keys in sorted order: Helm (Go) writes JSON object keys sorted.
  const filter = { ...SIDECAR_HEADER_FILTER, header_cache_expiry: "30s" };
  const sorted = Object.fromEntries(Object.entries(filter).sort(([a], [b]) => a.localeCompare(b)));
  fs.writeFileSync(process.argv[2], renderEnvoyConfig("sidecar", {
    LISTEN_HOST: "0.0.0.0", SIDECAR_PORT: 7110, ADMIN_PORT: 9902, APP_PORT: 7100,
    HEADER_PROVIDER_HOST: svc("header-provider"), HEADER_PROVIDER_PORT: 7200,
    HEADER_FILTER_WASM: "/etc/envoy/header-filter.wasm",
    HEADER_FILTER_CONFIG: headerFilterConfigValue(sorted),
  }));' "$OUT/front-proxy-renderer.envoy.yaml" "$OUT/sidecar-renderer.envoy.yaml"
diff <(sed -e '$a\' "$OUT/front-proxy-renderer.envoy.yaml") <(sed -e '$a\' "$OUT/front-proxy-default.envoy.yaml") >&2 ||
  die "the chart's front proxy config differs from envoy/'s renderer with the same values"
pass "the chart's front proxy config is envoy/front-proxy.yaml as rendered by @edge/envoy-config"
diff <(sed -e '$a\' "$OUT/sidecar-renderer.envoy.yaml") <(sed -e '$a\' "$OUT/sidecar-platform-default.envoy.yaml") >&2 ||
  die "the echo chart's sidecar config differs from envoy/'s renderer with the same values"
pass "the echo chart's sidecar config is envoy/sidecar.yaml as rendered by @edge/envoy-config"

must_fail() { # must_fail <what> <pattern> [helm template args...]
  local what="$1" pattern="$2"
  shift 2
  if "$HELM" template edge "$CHARTS/edge-platform" "$@" >/dev/null 2>"$OUT/must-fail.err"; then
    die "$what: rendered, but must fail"
  fi
  grep -q -- "$pattern" "$OUT/must-fail.err" || { cat "$OUT/must-fail.err" >&2; die "$what: wrong error"; }
  pass "$what fails: $pattern"
}
must_fail "an Envoy placeholder without a value" "no value for {{ECHO_PORT}}" --set frontProxy.envoyVars.ECHO_PORT=null
must_fail "a Secret reference without a Secret name" "the name of an existing Secret" --set auth.secretEnv.ADMIN_TOKEN.secret=
must_fail "a sidecar placeholder without a value" "no value for {{HEADER_PROVIDER_PORT}}" --set echo.sidecar.envoyVars.HEADER_PROVIDER_PORT=null

echo "chart checks: $checks passed, 0 failed"
