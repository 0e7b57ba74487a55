"""What each test tier runs (issue 25).

``make test`` (CI) runs every test as written. ``make test-fast`` sets ``SALESBOOK_TESTS=fast``: the same
tests and assertions, the notebook runs left out (``-m "not slow"``), and each property-based test tries
fewer random examples, so that an engineer's loop stays within a minute.
"""

from __future__ import annotations

import os

__all__ = ["FAST", "examples"]

FAST = os.environ.get("SALESBOOK_TESTS") == "fast"


def examples(n: int) -> int:
    """Hypothesis examples for a property test: ``n`` in ``make test``; a fifth of it (at least 4) in
    ``make test-fast``."""
    return max(4, n // 5) if FAST else n
