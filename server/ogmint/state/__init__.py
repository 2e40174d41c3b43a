"""Service state (limits, keys) behind the ``StateStore`` protocol."""
