# syntax=docker/dockerfile:1
# LineWatch image: every `linewatch` command (simulate, score, persist, archive, serve, connect, train).
# Two stages: the build stage installs the pinned packages into a virtual environment; the
# runtime stage copies only that environment onto python:3.11-slim and runs as a non-root user.
# Build:  docker build -t linewatch:0.1.0 .        Run:  docker run --rm linewatch:0.1.0 --help

ARG PYTHON_IMAGE=python:3.11-slim-bookworm

FROM ${PYTHON_IMAGE} AS build
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1 PYTHONDONTWRITEBYTECODE=1
RUN python -m venv /opt/linewatch
WORKDIR /src
# Dependencies first (pinned in pyproject.toml) so code edits do not rebuild this layer.
COPY pyproject.toml README.md ./
RUN mkdir contracts && touch contracts/__init__.py \
 && /opt/linewatch/bin/pip install . \
 && /opt/linewatch/bin/pip uninstall -y linewatch
COPY contracts ./contracts
COPY runtime ./runtime
COPY store ./store
COPY simulators ./simulators
COPY pipelines ./pipelines
COPY services ./services
RUN /opt/linewatch/bin/pip install --no-deps . \
 && /opt/linewatch/bin/python -m compileall -q /opt/linewatch/lib

FROM ${PYTHON_IMAGE} AS runtime
LABEL org.opencontainers.image.title="LineWatch" \
      org.opencontainers.image.description="Self-hosted predictive maintenance for CNC and robot lines" \
      org.opencontainers.image.licenses="Apache-2.0" \
      org.opencontainers.image.source="https://github.com/linewatch/linewatch"
# libgomp1: LightGBM's OpenMP runtime (the wheel links it but slim images lack it).
RUN apt-get update \
 && apt-get install -y --no-install-recommends libgomp1 \
 && rm -rf /var/lib/apt/lists/* \
 && groupadd --system --gid 10001 linewatch \
 && useradd --system --uid 10001 --gid 10001 --home-dir /var/lib/linewatch --shell /usr/sbin/nologin linewatch \
 && mkdir -p /var/lib/linewatch/registry /var/lib/linewatch/archive /var/lib/linewatch/buffer \
 && chown -R 10001:10001 /var/lib/linewatch
COPY --from=build /opt/linewatch /opt/linewatch
# HOME and MPLCONFIGDIR point at writable places so the image runs with a read-only root
# filesystem (Helm and compose mount /tmp as tmpfs/emptyDir and /var/lib/linewatch as a volume).
ENV PATH=/opt/linewatch/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    HOME=/var/lib/linewatch \
    MPLCONFIGDIR=/tmp/matplotlib \
    LINEWATCH_ENVIRONMENT=production \
    LINEWATCH_DATA_DIR=/var/lib/linewatch \
    LINEWATCH_REGISTRY_DIR=/var/lib/linewatch/registry \
    LINEWATCH_CONNECTOR__METRICS_HOST=0.0.0.0
WORKDIR /var/lib/linewatch
USER 10001:10001
EXPOSE 8000 9400 9401 9402 9403 9404
ENTRYPOINT ["linewatch"]
CMD ["--help"]
