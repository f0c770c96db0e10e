#!/usr/bin/env bash
# Renders /etc/envoy/$ENVOY_CONFIG.yaml from the environment, then runs envoy with it.
set -euo pipefail
# ENVOY_STDOUT_FILE: envoy's stdout (where a StdoutAccessLog writes) goes to that file.
[[ -z "${ENVOY_STDOUT_FILE:-}" ]] || exec >>"$ENVOY_STDOUT_FILE"
if [[ -z "${ENVOY_CONFIG:-}" ]]; then
  exec envoy "$@"
fi
template="/etc/envoy/${ENVOY_CONFIG}.yaml"
[[ -f "$template" ]] || { echo "envoy-entrypoint: no config template $template" >&2; exit 64; }
out="$(mktemp /tmp/envoy.XXXXXX.yaml)"
config="$(<"$template")"
missing=()
for name in $(grep -o '{{[A-Z0-9_]*}}' "$template" | tr -d '{}' | sort -u); do
  if [[ -z "${!name+x}" ]]; then
    missing+=("$name")
  else
    config="${config//"{{$name}}"/${!name}}"
  fi
done
if [[ ${#missing[@]} -gt 0 ]]; then
  echo "envoy-entrypoint: $template needs these env vars: ${missing[*]}" >&2
  exit 64
fi
printf '%s\n' "$config" >"$out"
exec envoy -c "$out" --disable-hot-restart --log-level "${ENVOY_LOG_LEVEL:-warn}" \
  --concurrency "${ENVOY_CONCURRENCY:-1}" "$@"
