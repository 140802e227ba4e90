"""enrollctl: enrollment-as-code for corporate learning platforms."""

__version__ = "0.1.0"
