#!/usr/bin/env bash
# Real Apache Kafka (KRaft, single node) from Maven Central jars, on 127.0.0.1.
#   scripts/kafka.sh install            resolve the pinned jars into kafka-broker/libs (idempotent)
#   scripts/kafka.sh start [--port N]   format storage in .kafka/ and start; prints the bootstrap address
#   scripts/kafka.sh start --secure [--user NAME] [--plaintext-port N] [--mtls]
#                                       SASL_SSL (SCRAM-SHA-512 over TLS) with a CA made by openssl;
#                                       writes .kafka/client.env with the LINEWATCH_KAFKA__* settings
#   scripts/kafka.sh stop               stop the broker by its recorded pid
#   scripts/kafka.sh status             exit 0 if running
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-.venv/bin/python}

install() {
  if ls kafka-broker/libs/kafka_2.13-*.jar >/dev/null 2>&1 && [ kafka-broker/libs/.stamp -nt kafka-broker/pom.xml ]; then
    return 0
  fi
  command -v java >/dev/null || { echo "kafka.sh: java (17+) is required" >&2; exit 1; }
  command -v mvn >/dev/null || { echo "kafka.sh: maven (mvn) is required" >&2; exit 1; }
  echo "kafka.sh: resolving Kafka broker jars from Maven Central..."
  rm -rf kafka-broker/libs
  mvn -B -q -f kafka-broker/pom.xml dependency:copy-dependencies
  touch kafka-broker/libs/.stamp
}

case "${1:-}" in
  install) install ;;
  start) install; shift; exec "$PY" -m runtime.broker start "$@" ;;
  stop) exec "$PY" -m runtime.broker stop ;;
  status) exec "$PY" -m runtime.broker status ;;
  *) echo "usage: $0 install|start|stop|status" >&2; exit 2 ;;
esac
