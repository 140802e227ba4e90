"""Litmos (REST): provider, api, parse, read, write."""
