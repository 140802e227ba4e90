"""Renderers: pure functions from a `Plan` to text, Markdown or JSON."""
