# PostgreSQL from Debian's packages. Configured by environment: POSTGRES_PORT (5432),
# POSTGRES_LISTEN (127.0.0.1), POSTGRES_USER (postgres), POSTGRES_PASSWORD (required unless
# POSTGRES_TRUST_LOCAL=1), POSTGRES_DB (edge), POSTGRES_FAST=1 (fsync off: tests only).
# Data in /var/lib/postgresql/data (a volume), initialised on first start.
ARG BASE_IMAGE=edge/base:bookworm
FROM ${BASE_IMAGE}
RUN apt-get update -qq \
  && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends postgresql-15 >/dev/null \
  && rm -rf /var/lib/apt/lists/* /var/cache/apt/*.bin /var/lib/postgresql/15 /etc/postgresql/15 \
  # JIT is off (see the entrypoint): LLVM (~100 MB) is never loaded, so it is not shipped.
  && rm -f /usr/lib/postgresql/15/lib/llvmjit* /usr/lib/x86_64-linux-gnu/libLLVM-*.so* \
  && rm -rf /usr/lib/postgresql/15/lib/bitcode \
  && install -d -o postgres -g postgres -m 0700 /var/lib/postgresql/data \
  && install -d -o postgres -g postgres /var/run/postgresql
COPY postgres-entrypoint.sh /usr/local/bin/postgres-entrypoint
ENV PATH=/usr/lib/postgresql/15/bin:$PATH PGDATA=/var/lib/postgresql/data POSTGRES_PORT=5432 \
  POSTGRES_LISTEN=127.0.0.1 POSTGRES_USER=postgres POSTGRES_DB=edge
USER postgres
VOLUME /var/lib/postgresql/data
HEALTHCHECK --interval=5s --timeout=3s --start-period=20s --retries=5 \
  CMD ["bash", "-c", "pg_isready -q -h 127.0.0.1 -p \"$POSTGRES_PORT\" -U \"$POSTGRES_USER\" -d \"$POSTGRES_DB\""]
ENTRYPOINT ["/usr/local/bin/postgres-entrypoint"]
