# Source me: `source scripts/docker-engine.sh && edge_docker_up`. Makes a Docker engine
# reachable through DOCKER_HOST: reuses one that answers (DOCKER_HOST as set, else the default
# socket), otherwise starts Debian's dockerd for this project (overlay2 storage when the kernel
# mounts overlayfs, else vfs; no bridge, no iptables: containers use host networking only).
# EDGE_DOCKER_STORAGE=vfs|overlay2 forces the driver. `edge_docker_down`
# stops only an engine that edge_docker_up started. Data (and so every image layer) is kept in
# /var/lib/edge-docker, so later runs reuse the layers.
EDGE_DOCKER_SOCK="${EDGE_DOCKER_SOCK:-/run/edge-docker.sock}"
EDGE_DOCKER_ROOT="${EDGE_DOCKER_ROOT:-/var/lib/edge-docker}"
EDGE_DOCKER_STARTED_PID=""

# overlay2 when this kernel mounts overlayfs (a probe mount under the data root, on its file
# system), else vfs. vfs copies a whole root file system per container and per layer: on a
# 2-core VM its container creations saturated the disk and stalled every process for seconds.
edge_docker_storage() {
  if [[ -n "${EDGE_DOCKER_STORAGE:-}" ]]; then
    echo "$EDGE_DOCKER_STORAGE"
    return
  fi
  local probe rc=1
  probe="$(mktemp -d "$EDGE_DOCKER_ROOT/.overlay-probe.XXXXXX")"
  mkdir -p "$probe/l" "$probe/u" "$probe/w" "$probe/m"
  if mount -t overlay overlay -o "lowerdir=$probe/l,upperdir=$probe/u,workdir=$probe/w" \
    "$probe/m" 2>/dev/null; then
    rc=0
    umount "$probe/m" 2>/dev/null || true
  fi
  rm -rf "$probe"
  if [[ $rc -eq 0 ]]; then echo overlay2; else echo vfs; fi
}

edge_docker_up() {
  local candidate
  for candidate in "${DOCKER_HOST:-}" "unix:///var/run/docker.sock" "unix://$EDGE_DOCKER_SOCK"; do
    [[ -n "$candidate" ]] || continue
    if DOCKER_HOST="$candidate" timeout 10 docker version >/dev/null 2>&1; then
      export DOCKER_HOST="$candidate"
      echo "[docker] using the running engine at $DOCKER_HOST" >&2
      return 0
    fi
  done
  command -v dockerd >/dev/null || {
    echo "[docker] no Docker engine running and dockerd is not installed (scripts/infra/setup.sh installs docker.io)" >&2
    return 1
  }
  mkdir -p "$EDGE_DOCKER_ROOT" /run/edge-docker-exec
  local log="$EDGE_DOCKER_ROOT/dockerd.log" storage
  storage="$(edge_docker_storage)"
  echo "[docker] starting dockerd ($storage, host networking only) on unix://$EDGE_DOCKER_SOCK" >&2
  dockerd --data-root "$EDGE_DOCKER_ROOT" --exec-root /run/edge-docker-exec \
    --pidfile /run/edge-docker.pid --host "unix://$EDGE_DOCKER_SOCK" --storage-driver "$storage" \
    --bridge=none --iptables=false --ip-masq=false >"$log" 2>&1 &
  EDGE_DOCKER_STARTED_PID=$!
  export DOCKER_HOST="unix://$EDGE_DOCKER_SOCK"
  local _
  for _ in $(seq 120); do
    if timeout 5 docker version >/dev/null 2>&1; then return 0; fi
    kill -0 "$EDGE_DOCKER_STARTED_PID" 2>/dev/null || break
    sleep 0.5
  done
  echo "[docker] dockerd did not come up; its log:" >&2
  tail -30 "$log" >&2
  edge_docker_down
  return 1
}

edge_docker_down() {
  [[ -n "$EDGE_DOCKER_STARTED_PID" ]] || return 0
  echo "[docker] stopping the dockerd this run started (pid $EDGE_DOCKER_STARTED_PID)" >&2
  kill -TERM "$EDGE_DOCKER_STARTED_PID" 2>/dev/null || true
  local _
  for _ in $(seq 60); do
    kill -0 "$EDGE_DOCKER_STARTED_PID" 2>/dev/null || break
    sleep 0.5
  done
  kill -KILL "$EDGE_DOCKER_STARTED_PID" 2>/dev/null || true
  # dockerd leaves its default network namespace mounted; nothing else holds it.
  umount /run/edge-docker-exec/netns/default 2>/dev/null || true
  EDGE_DOCKER_STARTED_PID=""
}
