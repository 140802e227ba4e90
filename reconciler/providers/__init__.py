"""LMS providers: one module per vendor behind the `Provider` protocol of `base`."""
