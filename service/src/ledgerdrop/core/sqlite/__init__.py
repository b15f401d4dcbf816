"""The SQLite backend of the embedded default: Django's, with writers queued in order."""
