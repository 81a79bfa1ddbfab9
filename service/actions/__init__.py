"""The action plan of an assessment: each gap of its latest submission as a tracked action."""
