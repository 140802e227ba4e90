"""What the real Litmos sends that is neither its JSON nor its XML: the HTML page of a server error.

Recorded traffic (vendor-docs/litmos-recorded/module_complete.yml) has a 500 answered with `text/html`: the
WCF "Request Error" page, padded with a comment. The switch `litmos_html_error_rates` (a glob of
`METHOD /path` to a probability, as the other per-method fault switches) makes the emulator answer so,
before the call is processed, from a generator seeded by the faults' `seed`.
"""

from __future__ import annotations

import fnmatch
import random
import threading
from collections.abc import Mapping

from reconciler.sandbox.litmos.http import Rendered

# the recorded page, as IIS sent it (the padding keeps browsers from showing their own error page)
REQUEST_ERROR_PAGE = (
    '<html version="-//W3C//DTD XHTML 2.0//EN" xml:lang="en" '
    'xsi:schemaLocation="http://www.w3.org/1999/xhtml http://www.w3.org/MarkUp/SCHEMA/xhtml2.xsd" '
    'xmlns="http://www.w3.org/1999/xhtml" '
    'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"><HEAD><TITLE>Request Error</TITLE></HEAD>'
    '<BODY><DIV id="content"><P class="heading1"><B>Error Status Code:</B> \'InternalServerError\'</P>'
    "<P><B>Details: </B>The server encountered an error processing the request. Please see the server logs "
    "for more details.</P><!-- Padding " + "x" * 480 + "--></DIV></BODY></html>"
).encode()


def html_error_page() -> Rendered:
    """A 500 answered with the recorded `text/html` page."""
    headers = (("Content-Type", "text/html"), ("Content-Length", str(len(REQUEST_ERROR_PAGE))))
    return Rendered(500, headers, REQUEST_ERROR_PAGE)


class HtmlErrors:
    """Decides, call by call, whether to answer with the HTML error page (reproducible for one seed)."""

    def __init__(self, rates: Mapping[str, float], seed: int) -> None:
        # exact names before wildcards, as the fault middleware orders them
        self.rates = sorted(rates.items(), key=lambda pair: ("*" in pair[0] or "?" in pair[0], pair[0]))
        self._rng = random.Random(seed)
        self._lock = threading.Lock()
        self.served = 0

    def strikes(self, action: str) -> bool:
        """Whether the call `METHOD /path` (below `/v1.svc`) gets the HTML error page."""
        lowered = action.lower()
        rate = next((r for pattern, r in self.rates if fnmatch.fnmatchcase(lowered, pattern.lower())), 0.0)
        if rate <= 0:
            return False
        with self._lock:
            hit = self._rng.random() < rate
            self.served += hit
        return hit
