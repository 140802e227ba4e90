"""Saved plans: the JSON codec, the schema check and the file (digest, atomic write)."""
