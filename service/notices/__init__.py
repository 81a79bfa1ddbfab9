"""Notices: what happened that a user should know (returned, accepted, assigned, a comment on a target date, due soon, overdue), in the app and, as each user chooses, by e-mail."""
