"""The board's read-only view of its agency's accepted assessments."""
