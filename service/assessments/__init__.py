"""Assessments: access rules, section forms and the officer's use cases."""
