#!/bin/sh
# Starts MirrorMaker 2 from the apache/kafka image with the central bootstrap filled in.
# Fails fast (exit 2) when LINEWATCH_CENTRAL_BOOTSTRAP is unset, instead of retrying forever.
set -eu
if [ -z "${LINEWATCH_CENTRAL_BOOTSTRAP:-}" ]; then
  echo "edge-uplink: set LINEWATCH_CENTRAL_BOOTSTRAP (host:port of the central Kafka) in .env" >&2
  exit 2
fi
mkdir -p /tmp/logs
sed "s|@CENTRAL_BOOTSTRAP@|${LINEWATCH_CENTRAL_BOOTSTRAP}|" /etc/linewatch/mirror-maker.properties > /tmp/mm2.properties
exec /opt/kafka/bin/connect-mirror-maker.sh /tmp/mm2.properties
