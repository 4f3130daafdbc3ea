"""API models: ``<X>Create`` for request bodies, ``<X>Public`` for responses."""
