"""The models, one module per family (imported explicitly, e.g. ``scratch.models.capsule``)."""
