#!/usr/bin/env bash
# The whole flow through a real Envoy Gateway (test/envoy-gateway.eg-spec.ts):
#  1. builds Envoy Gateway at the version pinned in packages/protos/envoy-gateway.json from the Go
#     module proxy into .tools/envoy-gateway-<version>/ (once; Go from the machine or the set-up
#     step, at least the module's `go` version). `go install module@version` refuses modules with
#     replace directives, so the module is built as the main module from a copy of its source.
#  2. runs the test in a network namespace of its own (unshare, root): Envoy Gateway's xDS server
#     and the listeners of its Envoy bind 0.0.0.0, which there is that namespace's loopback only.
#     Envoy Gateway runs standalone (file provider, Host infrastructure) with the set-up step's
#     Envoy binary placed where func-e looks for it, so nothing is downloaded at run time.
# Usage: apps/gateway-extension/scripts/envoy-gateway-flow.sh   (after scripts/infra/setup.sh and pnpm build)
set -euo pipefail
APP="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
REPO="$(cd "$APP/../.." && pwd)"
# shellcheck source=/dev/null
source "$REPO/.tools/infra.env"
PIN="$REPO/packages/protos/envoy-gateway.json"
MODULE="$(node -p "require('$PIN').module")"
VERSION="$(node -p "require('$PIN').version")"
export GOPATH="$REPO/.tools/go" GOCACHE="$REPO/.tools/go/cache" GOFLAGS=-modcacherw GOTOOLCHAIN=local
DIR="$REPO/.tools/envoy-gateway-$VERSION"
BIN="$DIR/envoy-gateway"
if [[ ! -x "$BIN" ]]; then
  command -v go >/dev/null || { echo "envoy-gateway-flow: go not found (scripts/infra/setup.sh installs it)" >&2; exit 1; }
  start=$(date +%s)
  go mod download "$MODULE@$VERSION"
  rm -rf "$DIR/src" && mkdir -p "$DIR"
  cp -r "$GOPATH/pkg/mod/$MODULE@$VERSION" "$DIR/src" && chmod -R u+w "$DIR/src"
  (cd "$DIR/src" && go build -o "$BIN" ./cmd/envoy-gateway)
  echo "envoy-gateway-flow: built envoy-gateway $VERSION in $(($(date +%s) - start)) s" >&2
fi
mkdir -p "$REPO/.local"
WORK="$(mktemp -d "$REPO/.local/envoy-gateway-flow.XXXXXX")"
trap 'rc=$?; if [[ $rc -eq 0 ]]; then rm -rf "$WORK"; else echo "envoy-gateway-flow: logs kept in $WORK" >&2; fi' EXIT
export EDGE_ENVOY_GATEWAY_BIN="$BIN" EDGE_ENVOY_GATEWAY_WORKDIR="$WORK" EDGE_ENVOY_VERSION="$ENVOY_VERSION"
cd "$APP"
unshare --net -- bash -c 'ip link set lo up && exec pnpm exec vitest run -c vitest.envoy-gateway.config.mjs'
