"""Parameters → canonical spec → template → native renderer."""
