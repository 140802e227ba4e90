"""enrollctl: enrollment-as-code for corporate learning platforms."""

from __future__ import annotations


def version() -> str:
    """The installed version: pyproject.toml's `version` is the only place it is written."""
    # looked up when asked, not at import: importlib.metadata costs every command ~20 ms to load
    from importlib.metadata import PackageNotFoundError
    from importlib.metadata import version as installed

    try:
        return installed("enrollctl")
    except PackageNotFoundError:  # imported from a source tree that was never installed
        return "0+unknown"


def __getattr__(name: str) -> str:
    if name == "__version__":
        return version()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
