"""Sandbox organisations: the spec, its YAML form, generation, and seeding a store."""
