# Redis from Debian's package. Configured by environment: REDIS_PORT (6379), REDIS_LISTEN
# (127.0.0.1), REDIS_PERSIST=1 (AOF + snapshots in /data; default: nothing written to disk).
ARG BASE_IMAGE=edge/base:bookworm
FROM ${BASE_IMAGE}
RUN apt-get update -qq \
  && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends redis-server >/dev/null \
  && rm -rf /var/lib/apt/lists/* /var/cache/apt/*.bin \
  && install -d -o redis -g redis /data
COPY redis-entrypoint.sh /usr/local/bin/redis-entrypoint
ENV REDIS_PORT=6379 REDIS_LISTEN=127.0.0.1
USER redis
WORKDIR /data
VOLUME /data
HEALTHCHECK --interval=5s --timeout=3s --start-period=5s --retries=5 \
  CMD ["bash", "-c", "redis-cli -h 127.0.0.1 -p \"$REDIS_PORT\" ping | grep -q PONG"]
ENTRYPOINT ["/usr/local/bin/redis-entrypoint"]
