"""The built-in model: its files, its server process and the supervisor that keeps it running."""
