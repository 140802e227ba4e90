"""Manifests: YAML with positions, JSON Schema, building the model, dumping it back, offline scope
checks.
"""
