"""enrollctl: enrollment-as-code for corporate learning platforms."""

from importlib.metadata import PackageNotFoundError, version

try:
    # pyproject.toml's `version` is the only place the version is written; the installed metadata carries it
    __version__ = version("enrollctl")
except PackageNotFoundError:  # imported from a source tree that was never installed
    __version__ = "0+unknown"
