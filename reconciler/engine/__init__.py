"""Wires the stages: builds providers, reads one snapshot, and plans, explains, exports from it."""
