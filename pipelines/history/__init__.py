"""History archive: Kafka telemetry and events -> Parquet in the import format."""
