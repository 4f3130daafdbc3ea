# Operator UI front-end packages (sourced by scripts/setup.sh from the repo root).
# ECharts comes from the npm registry at set-up time (pinned in services/ui-build/package-lock.json)
# and is copied into services/api/ui/vendor/, which the API serves: nothing is loaded from the
# internet at run time. Skipped when the copied file is newer than the lock file.
ui_vendor=services/api/ui/vendor
ui_lock=services/ui-build/package-lock.json
if [ ! -f "$ui_vendor/echarts.esm.min.js" ] || [ "$ui_lock" -nt "$ui_vendor/echarts.esm.min.js" ]; then
  command -v npm >/dev/null || { echo "setup: npm is required for the operator UI (Debian: apt-get install npm)" >&2; exit 1; }
  say "fetching UI packages from the npm registry (npm ci in services/ui-build)"
  npm ci --prefix services/ui-build --no-audit --no-fund --loglevel=error
  mkdir -p "$ui_vendor"
  cp services/ui-build/node_modules/echarts/dist/echarts.esm.min.mjs "$ui_vendor/echarts.esm.min.js"
  cp services/ui-build/node_modules/echarts/LICENSE "$ui_vendor/ECHARTS-LICENSE"
fi
# A Chinese font for the headless browser tests and screenshots (operators' own browsers have one).
if [ "$mode" != "--run" ] && [ "$mode" != "--unit" ] && ! fc-list :lang=zh 2>/dev/null | grep -q .; then
  if [ "$(id -u)" = 0 ]; then
    say "installing a Chinese font for the browser tests (Debian fonts-wqy-microhei)"
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq fonts-wqy-microhei >/dev/null
  else
    echo "setup: no Chinese font for the browser tests; run: sudo apt-get install fonts-wqy-microhei" >&2
    exit 1
  fi
fi
