"""The user's own account: signing in and out, language, second factor, API tokens."""
