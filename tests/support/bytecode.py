"""Write bytecode during the test run, whatever PYTHONDONTWRITEBYTECODE says.

Loaded before any other plugin (`-p tests.support.bytecode` in pyproject's addopts): the suite starts many
interpreters (xdist workers; `python -m reconciler` in the crash, path, portability and workflow tests), and
under PYTHONDONTWRITEBYTECODE each would compile `reconciler`, the test modules and the pytest plugins'
assertion-rewritten modules (schemathesis's plugin marks its whole package: ~1 s per interpreter) again.
Loaded here, before the plugins that pytest finds by entry point, all of that is cached once
(`__pycache__/` is git-ignored); subprocesses read what the run wrote.
"""

from __future__ import annotations

import sys

sys.dont_write_bytecode = False
