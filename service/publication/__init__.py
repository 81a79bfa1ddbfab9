"""The public edition: an accepted submission's redacted transparency record, its release and withdrawal, and the public pages."""
