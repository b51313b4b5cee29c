"""Text on its way to a terminal made inert: one line, no control or format characters.

An error message, a ``wrote ...`` line or a progress bar's label may carry text from a
table (a domain id, a KPI name) or a file name from anywhere. An ESC byte there could
recolour the terminal, set its title or move the cursor, a carriage return could
overwrite the line, a right-to-left override reverse it. :func:`printable` writes every
such character as the escape Python would (``\\x1b``, ``\\u202e``); :func:`one_line`
also keeps a message on one line, as every error of the ``simreel`` command is.

Standard library only, and no other part of simreel: the ``simreel`` entry point
imports it before any command, and ``simreel --help`` must stay instant.
"""

from __future__ import annotations

import unicodedata


def _escape(ch: str) -> str:
    if unicodedata.category(ch).startswith("C") or ch in "\u2028\u2029":
        return ch.encode("unicode_escape", "backslashreplace").decode("ascii")
    return ch


def printable(text: str) -> str:
    """`text` with control, format and surrogate characters written as escapes
    (``\\x1b``, ``\\x00``, ``\\r``, ``\\n``, ``\\u202e``); plain text is returned as it is."""
    if text.isprintable():
        return text
    return "".join(_escape(ch) for ch in text)


def one_line(text: str) -> str:
    """`text` as one inert line: newlines inside it escaped too (trailing ones dropped)."""
    return printable(text.rstrip("\n"))


def printable_lines(text: str) -> str:
    """`text` with each of its lines made inert, the line breaks kept (click's usage
    errors are several lines: the usage, the error, a hint)."""
    return "\n".join(printable(line) for line in text.rstrip("\n").split("\n"))
