#!/usr/bin/env bash
# Writes server.properties from the environment, formats the log dir once, runs the broker.
set -euo pipefail
data=/var/lib/kafka
adv="${KAFKA_ADVERTISED_HOST:-$KAFKA_LISTEN}"
props="$data/server.properties"
cat >"$props" <<PROPS
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@${adv}:${KAFKA_CONTROLLER_PORT}
listeners=PLAINTEXT://${KAFKA_LISTEN}:${KAFKA_PORT},CONTROLLER://${KAFKA_LISTEN}:${KAFKA_CONTROLLER_PORT}
advertised.listeners=PLAINTEXT://${adv}:${KAFKA_PORT}
controller.listener.names=CONTROLLER
inter.broker.listener.name=PLAINTEXT
listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT
log.dirs=$data/kraft-logs
num.partitions=1
default.replication.factor=1
auto.create.topics.enable=true
offsets.topic.replication.factor=1
offsets.topic.num.partitions=1
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
share.coordinator.state.topic.replication.factor=1
share.coordinator.state.topic.min.isr=1
group.initial.rebalance.delay.ms=0
num.network.threads=2
num.io.threads=2
PROPS
printf 'status = warn\nappender.o.type = Console\nappender.o.name = O\nappender.o.layout.type = PatternLayout\nappender.o.layout.pattern = [%%d] %%p %%m (%%c)%%n\nrootLogger.level = INFO\nrootLogger.appenderRef.o.ref = O\n' >"$data/log4j2.properties"
jvm=(-Xmx"$KAFKA_HEAP" -Xms128m -XX:+UseSerialGC -XX:TieredStopAtLevel=1 -XX:-UsePerfData
  -Djava.awt.headless=true -Dlog4j2.configurationFile="$data/log4j2.properties")
if [[ ! -f "$data/kraft-logs/meta.properties" ]]; then
  # A cluster id is 16 random bytes, base64url; never starting with '-' (read as an option).
  id="${KAFKA_CLUSTER_ID:-$(head -c16 /dev/urandom | base64 | tr '+/' '-_' | tr -d '=' | sed 's/^-/A/')}"
  java "${jvm[@]}" -cp '/opt/kafka/libs/*' kafka.tools.StorageTool format -t "$id" -c "$props" >/dev/null
fi
exec java "${jvm[@]}" -cp '/opt/kafka/libs/*' kafka.Kafka "$props"
