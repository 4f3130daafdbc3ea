#!/usr/bin/env bash
# Debian's Mosquitto MQTT broker for LineWatch tests and demos, on 127.0.0.1 only.
#   scripts/mosquitto.sh start [PORT] [DIR]   start (free port if PORT is empty or 0); prints "port=<n> pid=<n>"
#   scripts/mosquitto.sh stop [DIR]           stop by the pid recorded in DIR
#   scripts/mosquitto.sh status [DIR]
# DIR (default .mosquitto/) holds mosquitto.conf, mosquitto.pid, port and mosquitto.log.
# Stopped by its own pid, never by name.
set -euo pipefail
cd "$(dirname "$0")/.."
cmd=${1:-status}
BIN=$(command -v mosquitto || echo /usr/sbin/mosquitto)
[ -x "$BIN" ] || { echo "mosquitto: not installed (apt-get install mosquitto; scripts/setup.sh does it)" >&2; exit 1; }

alive() { [ -f "$1/mosquitto.pid" ] && kill -0 "$(cat "$1/mosquitto.pid")" 2>/dev/null; }

case "$cmd" in
  start)
    port=${2:-0}; dir=${3:-.mosquitto}
    mkdir -p "$dir"; dir=$(cd "$dir" && pwd)
    if alive "$dir"; then echo "port=$(cat "$dir/port") pid=$(cat "$dir/mosquitto.pid")"; exit 0; fi
    if [ -z "$port" ] || [ "$port" = 0 ]; then
      port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
    fi
    # "user": started as root, mosquitto would switch to the mosquitto user, who cannot write DIR.
    cat > "$dir/mosquitto.conf" <<CONF
listener $port 127.0.0.1
allow_anonymous true
persistence false
pid_file $dir/mosquitto.pid
log_dest file $dir/mosquitto.log
max_queued_messages 100000
user $(id -un)
CONF
    rm -f "$dir/mosquitto.pid"
    "$BIN" -c "$dir/mosquitto.conf" -d
    for _ in $(seq 1 50); do
      if alive "$dir" && (exec 3<>/dev/tcp/127.0.0.1/"$port") 2>/dev/null; then
        echo "$port" > "$dir/port"; echo "port=$port pid=$(cat "$dir/mosquitto.pid")"; exit 0
      fi
      sleep 0.1
    done
    echo "mosquitto did not start; log:" >&2; tail -20 "$dir/mosquitto.log" >&2 || true; exit 1 ;;
  stop)
    dir=${2:-.mosquitto}
    if alive "$dir"; then
      pid=$(cat "$dir/mosquitto.pid"); kill "$pid"
      for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
      kill -0 "$pid" 2>/dev/null && kill -9 "$pid"
      echo "mosquitto stopped"
    else
      echo "mosquitto was not running"
    fi
    rm -f "$dir/mosquitto.pid" ;;
  status)
    dir=${2:-.mosquitto}
    if alive "$dir"; then echo "port=$(cat "$dir/port") pid=$(cat "$dir/mosquitto.pid")"; else echo "mosquitto not running"; exit 3; fi ;;
  *) echo "usage: $0 start [PORT] [DIR] | stop [DIR] | status [DIR]" >&2; exit 2 ;;
esac
