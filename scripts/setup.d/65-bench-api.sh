# API benchmark load generator (sourced by scripts/setup.sh from the repo root): vegeta v12.13.0,
# an open-loop HTTP load generator, built with `go install` through the Go module proxy into
# .tools/bin (git-ignored; about a minute, once). Used by bench/bench_api.py (`make bench BENCH=api`).
if [ "${mode:-all}" != "--run" ] && [ ! -x "$PWD/.tools/bin/vegeta" ]; then
  command -v go >/dev/null || { echo "setup: Go is required to build vegeta (go install)" >&2; return 1; }
  say "building vegeta v12.13.0 with go install (about a minute, once)"
  mkdir -p "$PWD/.tools/bin"
  GOBIN="$PWD/.tools/bin" GOFLAGS=-buildvcs=false go install github.com/tsenart/vegeta/v12@v12.13.0
fi
