#!/bin/sh
# Starts MirrorMaker 2 from the apache/kafka image: the edge box's broker -> the central cluster.
# The central cluster is reached over SASL_SSL (SCRAM-SHA-512) unless
# LINEWATCH_CENTRAL_SECURITY_PROTOCOL says otherwise, explicitly.
#   LINEWATCH_CENTRAL_BOOTSTRAP            host:port[,host:port] of the central Kafka (required)
#   LINEWATCH_CENTRAL_SECURITY_PROTOCOL    SASL_SSL (default), SSL or PLAINTEXT
#   LINEWATCH_CENTRAL_SASL_MECHANISM       SCRAM-SHA-512 (default), SCRAM-SHA-256 or PLAIN
#   LINEWATCH_CENTRAL_SASL_USERNAME        required with SASL_SSL
#   LINEWATCH_CENTRAL_SASL_PASSWORD_FILE   default /etc/linewatch/kafka/central-password
#   LINEWATCH_CENTRAL_SSL_CAFILE           default /etc/linewatch/kafka/central-ca.crt (PEM; if absent:
#                                          the JVM's default trust store)
# Fails fast (exit 2) with a message instead of retrying forever. `--print-config` prints the
# generated properties (password masked) and exits.
set -eu
umask 077
PROPS=${LINEWATCH_UPLINK_PROPERTIES:-/etc/linewatch/mirror-maker.properties}
OUT=${LINEWATCH_UPLINK_OUT:-/tmp/mm2.properties}
fail() { echo "edge-uplink: $*" >&2; exit 2; }

[ -n "${LINEWATCH_CENTRAL_BOOTSTRAP:-}" ] || fail "set LINEWATCH_CENTRAL_BOOTSTRAP (host:port of the central Kafka) in .env"
case "$LINEWATCH_CENTRAL_BOOTSTRAP" in *[!A-Za-z0-9.:,_-]*) fail "LINEWATCH_CENTRAL_BOOTSTRAP: host:port[,host:port] only";; esac
PROTO=${LINEWATCH_CENTRAL_SECURITY_PROTOCOL:-SASL_SSL}
case "$PROTO" in
  SASL_SSL|SSL) ;;
  PLAINTEXT) echo "edge-uplink: WARNING central cluster over PLAINTEXT: plant data crosses the network unencrypted" >&2 ;;
  *) fail "LINEWATCH_CENTRAL_SECURITY_PROTOCOL: SASL_SSL, SSL or PLAINTEXT, not $PROTO" ;;
esac

if [ "$PROTO" = SASL_SSL ]; then
  MECH=${LINEWATCH_CENTRAL_SASL_MECHANISM:-SCRAM-SHA-512}
  case "$MECH" in
    SCRAM-SHA-512|SCRAM-SHA-256) MODULE=org.apache.kafka.common.security.scram.ScramLoginModule ;;
    PLAIN) MODULE=org.apache.kafka.common.security.plain.PlainLoginModule ;;
    *) fail "LINEWATCH_CENTRAL_SASL_MECHANISM: SCRAM-SHA-512, SCRAM-SHA-256 or PLAIN, not $MECH" ;;
  esac
  USER=${LINEWATCH_CENTRAL_SASL_USERNAME:-}
  [ -n "$USER" ] || fail "set LINEWATCH_CENTRAL_SASL_USERNAME (the uplink's Kafka user) in .env, or LINEWATCH_CENTRAL_SECURITY_PROTOCOL"
  PWFILE=${LINEWATCH_CENTRAL_SASL_PASSWORD_FILE:-/etc/linewatch/kafka/central-password}
  [ -s "$PWFILE" ] || fail "the uplink's Kafka password file $PWFILE is missing or empty (deploy/kafka-client/central-password)"
  PASSWORD=$(cat "$PWFILE")
  case "$USER$PASSWORD" in *'"'*|*'\'*) fail "SASL user name and password may not contain quotes or backslashes";; esac
fi

# Everything checked: write the properties (mode 0600: they hold the password).
mkdir -p "$(dirname "$OUT")"
sed "s|@CENTRAL_BOOTSTRAP@|${LINEWATCH_CENTRAL_BOOTSTRAP}|" "$PROPS" > "$OUT"
printf '\n# Written by edge-uplink.sh: the central cluster'"'"'s security.\ncentral.security.protocol = %s\n' "$PROTO" >> "$OUT"
if [ "$PROTO" = SASL_SSL ]; then
  printf 'central.sasl.mechanism = %s\ncentral.sasl.jaas.config = %s required username="%s" password="%s";\n' \
    "$MECH" "$MODULE" "$USER" "$PASSWORD" >> "$OUT"
fi
if [ "$PROTO" != PLAINTEXT ]; then
  CA=${LINEWATCH_CENTRAL_SSL_CAFILE:-/etc/linewatch/kafka/central-ca.crt}
  if [ -f "$CA" ]; then
    printf 'central.ssl.truststore.type = PEM\ncentral.ssl.truststore.location = %s\n' "$CA" >> "$OUT"
  else
    echo "edge-uplink: no $CA: trusting the JVM's default CAs for the central cluster" >&2
  fi
  printf 'central.ssl.endpoint.identification.algorithm = https\n' >> "$OUT"
fi

if [ "${1:-}" = "--print-config" ]; then
  sed 's/password="[^"]*"/password="***"/' "$OUT"
  exit 0
fi
mkdir -p /tmp/logs
exec /opt/kafka/bin/connect-mirror-maker.sh "$OUT"
