"""The sandbox's SQLite store: records, ids, SQL."""
