"""Regulator review and oversight: workflow, inbox, review decisions, diffs, portfolio, board."""
