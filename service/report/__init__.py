"""The gap report: HTML and tagged PDF from a scored submission (see reports/ for templates)."""
