"""Persist stage: machine events and per-minute telemetry aggregates into the store."""
