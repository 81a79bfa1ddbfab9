"""Evidence documents attached to answers."""
