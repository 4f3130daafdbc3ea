#!/usr/bin/env bash
# Idempotent set-up for LineWatch: everything the run and test commands need.
#   scripts/setup.sh          Python venv + packages, Kafka jars, system servers for tests
#   scripts/setup.sh --run    only what `make demo` needs (venv, Kafka jars)
#   scripts/setup.sh --unit   what `make test-unit` needs: the --run set plus the UI packages and
#                             the deployment validators (no system servers, no browser)
# Each step is skipped when its stamp is newer than its inputs, so a second call is fast.
set -euo pipefail
cd "$(dirname "$0")/.."
mode=${1:-all}
case "$mode" in all|--all) ;; --run|--unit) ;; *) echo "setup: unknown mode $mode (use --run or --unit)" >&2; exit 2;; esac

say() { printf '\033[1msetup:\033[0m %s\n' "$*"; }

# --- Python -----------------------------------------------------------------------------
PY=$(command -v python3.11 || command -v python3)
"$PY" -c 'import sys; assert sys.version_info[:2] >= (3, 11), sys.version' \
  || { echo "setup: Python 3.11+ is required" >&2; exit 1; }
if [ ! -x .venv/bin/python ]; then
  say "creating .venv"
  "$PY" -m venv .venv
fi
stamp=.venv/.linewatch-installed
if [ ! -f "$stamp" ] || [ pyproject.toml -nt "$stamp" ]; then
  say "installing Python packages (pinned in pyproject.toml)"
  .venv/bin/python -m pip install -q --upgrade pip
  .venv/bin/python -m pip install -q -e '.[test,librdkafka,dask]' --config-settings editable_mode=compat
  touch "$stamp"
fi

# --- Kafka broker jars from Maven Central -------------------------------------------------
scripts/kafka.sh install

# --- System servers and browser for the test tiers (Debian packages) ----------------------
need_apt=()
if [ "$mode" = all ] || [ "$mode" = --all ]; then
  [ -x /usr/lib/postgresql/15/bin/postgres ] || ls /usr/lib/postgresql/*/bin/postgres >/dev/null 2>&1 || need_apt+=(postgresql)
  command -v mosquitto >/dev/null || [ -x /usr/sbin/mosquitto ] || need_apt+=(mosquitto)
  command -v chromium >/dev/null || need_apt+=(chromium)
fi
if [ ${#need_apt[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ]; then
    say "installing Debian packages: ${need_apt[*]}"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need_apt[@]}" >/dev/null
  else
    echo "setup: missing Debian packages ${need_apt[*]}; run: sudo apt-get install ${need_apt[*]}" >&2
    exit 1
  fi
fi

# Extra set-up steps owned by later features live in scripts/setup.d/*.sh (sourced in order).
for step in scripts/setup.d/*.sh; do
  [ -e "$step" ] || continue
  # shellcheck source=/dev/null
  . "$step"
done
say "ready"
