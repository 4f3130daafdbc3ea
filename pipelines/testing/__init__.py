"""Stand-ins for tests, benchmarks and a demo with an empty registry — never the product.

``toymodel``: small real LightGBM bundles trained in seconds on synthetic history, registered
with ``data_range.source = STAND_IN_SOURCE`` so the pilot knows to retrain over them.
``samplestream``: a seeded telemetry stream from the simulator for scoring tests.
"""
