# Kafka (KRaft, one combined broker+controller node): the broker jars from Maven Central (what
# scripts/infra/setup.sh resolves) on Debian's Java 17 runtime. Configured by environment:
# KAFKA_PORT (9092), KAFKA_CONTROLLER_PORT (9093), KAFKA_LISTEN (127.0.0.1),
# KAFKA_ADVERTISED_HOST (= KAFKA_LISTEN), KAFKA_CLUSTER_ID (generated on first start),
# KAFKA_HEAP (512m). Data in /var/lib/kafka (a volume), formatted on first start.
ARG BASE_IMAGE=edge/base:bookworm
FROM ${BASE_IMAGE}
RUN apt-get update -qq \
  && mkdir -p /usr/share/man/man1 \
  && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends openjdk-17-jre-headless >/dev/null \
  && rm -rf /var/lib/apt/lists/* /var/cache/apt/*.bin \
  && useradd --system --uid 10201 --user-group --no-create-home --shell /usr/sbin/nologin kafka \
  && install -d -o kafka -g kafka /var/lib/kafka
COPY libs/ /opt/kafka/libs/
COPY kafka-entrypoint.sh /usr/local/bin/kafka-entrypoint
ENV KAFKA_PORT=9092 KAFKA_CONTROLLER_PORT=9093 KAFKA_LISTEN=127.0.0.1 KAFKA_HEAP=512m
USER kafka
VOLUME /var/lib/kafka
HEALTHCHECK --interval=5s --timeout=3s --start-period=30s --retries=5 \
  CMD ["bash", "-c", "exec 3<>/dev/tcp/${KAFKA_ADVERTISED_HOST:-$KAFKA_LISTEN}/$KAFKA_PORT"]
ENTRYPOINT ["/usr/local/bin/kafka-entrypoint"]
