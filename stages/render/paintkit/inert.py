"""Text from a table made safe to draw: no control characters, no bidi overrides, bounded.

A table may come from anywhere, and every string in it (the domain id, a KPI name, the
recording policy, a string attribute) can end up in a frame. pygame refuses a NUL
(``ValueError``) and a lone surrogate (``UnicodeEncodeError``), a right-to-left override
would reverse the rest of a label, and a megabyte of text costs a font seconds to
measure although a frame shows a few hundred characters at most. :func:`drawable`
turns any string into one that is safe and cheap to measure and draw; the paint kit's
:class:`~stages.render.paintkit.draw.Text` applies it to everything it measures or
renders, so a painter cannot forget it.

The escapes are the ones a terminal shows (``\\x1b``, ``\\u202e``), so a viewer sees
that the table holds a control character, and the movie and ``simreel inspect`` agree.
"""

from __future__ import annotations

import unicodedata
from typing import Final

DRAWN_LIMIT: Final = 2000
"""Characters kept of a longer string (then an ellipsis): more than the widest frame
(4 x 1280 pixels) holds at the smallest font."""
_ELLIPSIS: Final = "…"


def _escape(ch: str) -> str:
    if unicodedata.category(ch).startswith("C") or ch in "\u2028\u2029":
        return ch.encode("unicode_escape", "backslashreplace").decode("ascii")
    return ch


def drawable(text: str) -> str:
    """`text` with control, format, surrogate and unassigned characters written as escapes
    (``a\\x00b``), cut to :data:`DRAWN_LIMIT` characters with an ellipsis.

    Idempotent: an escape is plain ASCII, so a drawable string is returned unchanged.
    """
    if len(text) > DRAWN_LIMIT:
        text = text[:DRAWN_LIMIT] + _ELLIPSIS
    if text.isprintable():
        return text
    escaped = "".join(_escape(ch) for ch in text)
    return escaped if len(escaped) <= DRAWN_LIMIT + 1 else escaped[:DRAWN_LIMIT] + _ELLIPSIS
