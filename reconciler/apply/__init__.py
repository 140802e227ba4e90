"""Applying a plan: staleness basis, batching, journal, resume, the repository lock."""
