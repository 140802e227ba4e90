"""GitHub: the REST client and the pull-request comment it writes."""
