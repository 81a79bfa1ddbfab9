"""The core: questionnaire schema, loader, engine and scoring; imports nothing of the project."""
