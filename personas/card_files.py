"""Character cards on disk: JSON files, and PNG images with the card in a tEXt chunk.

In a PNG the card is base64-encoded JSON: V2 in a `chara` chunk, V3 in `ccv3`. We read
`ccv3` when both are there, and write both. Reading walks the PNG chunks ourselves
(checking lengths and CRCs) rather than through Pillow, whose text-chunk limit (1 MB)
is below what a card with a big lorebook needs; Pillow draws and writes the image.
"""

from __future__ import annotations

import base64
import binascii
import io
import json
import struct
import zlib
from pathlib import Path
from typing import Any

from dramatis.core.errors import DramatisError
from dramatis.personas.cards import check_card, to_version

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
MAX_CARD_BYTES = 32 * 1024 * 1024  # a card chunk above this is refused, not decoded
CARD_CHUNKS = ("ccv3", "chara")  # in order of preference


def png_text_chunks(blob: bytes, source: str) -> dict[str, bytes]:
    """The tEXt chunks of a PNG, {keyword: text bytes}; DramatisError if it is broken.

    b"\\x89PNG..." with tEXt "chara\\0eyJ..." -> {"chara": b"eyJ..."}
    """
    if not blob.startswith(PNG_SIGNATURE):
        raise DramatisError(f"{source}: not a PNG file (bad signature)")
    chunks: dict[str, bytes] = {}
    pos = len(PNG_SIGNATURE)
    while pos < len(blob):
        if pos + 8 > len(blob):
            raise DramatisError(f"{source}: truncated PNG (a chunk header is cut off)")
        length, kind = struct.unpack(">I4s", blob[pos : pos + 8])
        if length > MAX_CARD_BYTES:
            raise DramatisError(
                f"{source}: a PNG chunk of {length} bytes is over the {MAX_CARD_BYTES} limit"
            )
        end = pos + 8 + length
        if end + 4 > len(blob):
            raise DramatisError(f"{source}: truncated PNG (the {kind!r} chunk is cut off)")
        body = blob[pos + 8 : end]
        (crc,) = struct.unpack(">I", blob[end : end + 4])
        if zlib.crc32(kind + body) != crc:
            raise DramatisError(f"{source}: corrupt PNG (bad CRC in a {kind!r} chunk)")
        if kind == b"tEXt" and b"\0" in body:
            keyword, _, text = body.partition(b"\0")
            chunks.setdefault(keyword.decode("latin-1"), text)
        if kind == b"IEND":
            return chunks
        pos = end + 4
    raise DramatisError(f"{source}: truncated PNG (no IEND chunk)")


# Pixels a card's image may have: 16.8 megapixels (4096 x 4096, ~67 MB decoded as RGBA).
# Card viewers show a few hundred pixels; a 100-megapixel PNG decodes to ~300 MB and a
# 900-megapixel one is past what Pillow opens, so export would fail long after import.
MAX_PIXELS = 4096 * 4096


def png_pixels(blob: bytes, source: str) -> tuple[int, int]:
    """(width, height) from a PNG's IHDR chunk, which comes first; DramatisError if the
    image is over MAX_PIXELS.

    png_pixels(<a 400 x 600 PNG>, "c.png") -> (400, 600)
    """
    start = len(PNG_SIGNATURE)
    if blob[start + 4 : start + 8] != b"IHDR" or len(blob) < start + 16:
        raise DramatisError(f"{source}: corrupt PNG (it does not start with an IHDR chunk)")
    width, height = struct.unpack(">II", blob[start + 8 : start + 16])
    if width * height > MAX_PIXELS:
        raise DramatisError(
            f"{source}: the image is {width} x {height} ({width * height / 1e6:.0f} "
            f"megapixels), over the {MAX_PIXELS / 1e6:.1f} megapixel limit for a card: "
            "scale it down (e.g. to 400 x 600) and import it again"
        )
    return width, height


def decode_chunk(text: bytes, source: str, keyword: str) -> Any:
    """base64 JSON of a card chunk -> the JSON value; DramatisError naming the chunk."""
    try:
        raw = base64.b64decode(b"".join(text.split()), validate=True)
    except (binascii.Error, ValueError):
        raise DramatisError(f"{source}: the {keyword!r} chunk is not valid base64") from None
    return parse_json(raw, f"{source} ({keyword!r} chunk)")


def parse_json(raw: bytes, source: str) -> Any:
    """UTF-8 JSON bytes -> value; DramatisError with the line of the mistake."""
    try:
        return json.loads(raw.decode("utf-8-sig"))
    except UnicodeDecodeError:
        raise DramatisError(f"{source}: card text is not UTF-8") from None
    except json.JSONDecodeError as exc:
        raise DramatisError(f"{source}: not JSON: {exc.msg} at line {exc.lineno}") from None
    except RecursionError:
        raise DramatisError(f"{source}: JSON nested too deeply") from None


def card_from_bytes(blob: bytes, source: str) -> dict[str, Any]:
    """A checked card from the bytes of a PNG or JSON card file."""
    if len(blob) > 4 * MAX_CARD_BYTES:
        raise DramatisError(f"{source}: {len(blob)} bytes is too big for a character card")
    if not blob.startswith(PNG_SIGNATURE):
        return check_card(parse_json(blob, source), source)
    chunks = png_text_chunks(blob, source)
    png_pixels(blob, source)
    for keyword in CARD_CHUNKS:
        if keyword in chunks:
            raw = decode_chunk(chunks[keyword], source, keyword)
            return check_card(raw, f"{source} ({keyword!r} chunk)")
    raise DramatisError(f"{source}: PNG has no character card (no 'ccv3' or 'chara' tEXt chunk)")


def read_card(path: Path) -> dict[str, Any]:
    """A checked card from a .json or .png file."""
    try:
        blob = Path(path).read_bytes()
    except OSError as exc:
        raise DramatisError(f"cannot read card {path}: {exc.strerror}") from None
    return card_from_bytes(blob, str(path))


def card_json(card: dict[str, Any]) -> str:
    """Card file text: 2-space indent, UTF-8 kept, trailing newline."""
    return json.dumps(card, indent=2, ensure_ascii=False) + "\n"


def chunk_text(card: dict[str, Any]) -> str:
    """The base64 text of a card chunk (ASCII, as tEXt wants)."""
    return base64.b64encode(json.dumps(card, ensure_ascii=False).encode("utf-8")).decode("ascii")


def card_png(card: dict[str, Any], image: bytes) -> bytes:
    """PNG bytes: `image` (any format Pillow reads) with the card in `chara` (V2) and
    `ccv3` (V3) chunks. Chunks of the old image are not carried over."""
    from PIL import Image, PngImagePlugin

    info = PngImagePlugin.PngInfo()
    info.add_text("chara", chunk_text(to_version(card, v3=False)))
    info.add_text("ccv3", chunk_text(to_version(card, v3=True)))
    with Image.open(io.BytesIO(image)) as img:
        out = io.BytesIO()
        img.save(out, format="PNG", pnginfo=info)
    return out.getvalue()
