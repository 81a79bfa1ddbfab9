"""Administration: organisations, users, questionnaire versions, the audit log."""
