"""Helpers shared by the tests: builders, sandboxes, golden files. Import as `tests.support.<module>`."""
