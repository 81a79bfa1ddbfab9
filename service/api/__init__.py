"""The JSON API under /api/v1 (personal API tokens)."""
