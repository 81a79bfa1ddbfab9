"""Evidence documents attached to answers (issue 8)."""
