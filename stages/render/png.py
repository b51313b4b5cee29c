"""PNG pictures that carry text metadata (their provenance).

pygame encodes the pixels but cannot write text chunks, so the encoded file gets
them inserted afterwards: one chunk per entry, right after the ``IHDR`` header, so
a reader finds them without decoding the image. An entry whose text is Latin-1 (all
of simreel's: its JSON is ASCII) becomes a ``tEXt`` chunk, anything else an
uncompressed ``iTXt`` chunk (UTF-8), as the PNG specification (section 11.3.4)
says. The file is written through ``schemas.atomic.atomic_output``.
"""

from __future__ import annotations

import struct
import zlib
from collections.abc import Mapping
from pathlib import Path
from typing import Final

import pygame

from schemas.atomic import atomic_output
from schemas.errors import RenderError

SIGNATURE: Final = b"\x89PNG\r\n\x1a\n"
_IHDR_END: Final = len(SIGNATURE) + 4 + 4 + 13 + 4
"""Signature, then IHDR's length, type, 13 bytes of data and its CRC."""


def chunk(kind: bytes, data: bytes) -> bytes:
    """One PNG chunk: length, type, data and the CRC-32 of type and data."""
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def text_chunk(keyword: str, text: str) -> bytes:
    """A ``tEXt`` chunk, or an ``iTXt`` one if `text` is not Latin-1.

    Keywords are 1 to 79 printable Latin-1 characters without leading, trailing or
    double spaces (ValueError otherwise: they are simreel's own names, not user input).
    """
    if not (
        0 < len(keyword) < 80
        and keyword == keyword.strip()
        and "  " not in keyword
        and all(" " <= c <= "~" or "\xa1" <= c <= "\xff" for c in keyword)
    ):
        raise ValueError(f"{keyword!r} is not a PNG text keyword")
    name = keyword.encode("latin-1")
    try:
        return chunk(b"tEXt", name + b"\0" + text.encode("latin-1"))
    except UnicodeEncodeError:
        # Uncompressed, no language tag, no translated keyword.
        return chunk(b"iTXt", name + b"\0\0\0\0\0" + text.encode("utf-8"))


def with_text(png: bytes, entries: Mapping[str, str]) -> bytes:
    """`png` with a text chunk per entry inserted right after its ``IHDR`` chunk."""
    if png[: len(SIGNATURE)] != SIGNATURE or png[12:16] != b"IHDR":
        raise ValueError("not a PNG file starting with its IHDR chunk")
    inserted = b"".join(text_chunk(keyword, text) for keyword, text in entries.items())
    return png[:_IHDR_END] + inserted + png[_IHDR_END:]


def write_png(surface: pygame.Surface, out: Path, text: Mapping[str, str] | None = None) -> Path:
    """Save `surface` as the PNG `out` (atomically), with `text` as text chunks."""
    with atomic_output(out) as temporary:
        try:
            pygame.image.save(surface, str(temporary))
            if text:
                temporary.write_bytes(with_text(temporary.read_bytes(), text))
        except (pygame.error, OSError, ValueError) as error:
            raise RenderError(f"cannot write {out}: {error}") from None
    return out
