"""A simple generated portrait for exported cards: initials on a colour of the name."""

from __future__ import annotations

import hashlib
import io

SIZE = (400, 600)  # width, height: the 2:3 portrait card viewers expect


def initials(name: str) -> str:
    """Up to two initials of a name.

    initials("Lady Macbeth") -> "LM"; initials("hamlet") -> "H"
    """
    return "".join(word[0] for word in name.split()[:2]).upper() or "?"


def name_colour(name: str) -> tuple[int, int, int]:
    """A dark, stable colour from the name's hash (the same name, the same colour)."""
    digest = hashlib.sha256(name.encode("utf-8")).digest()
    return (40 + digest[0] % 100, 40 + digest[1] % 100, 40 + digest[2] % 100)


def portrait_png(name: str, subtitle: str = "") -> bytes:
    """PNG bytes of a plain portrait: the initials large, the name and subtitle below."""
    from PIL import Image, ImageDraw, ImageFont

    img = Image.new("RGB", SIZE, name_colour(name))
    draw = ImageDraw.Draw(img)
    width, height = SIZE
    draw.ellipse((80, 110, width - 80, 110 + width - 160), outline=(230, 220, 200), width=6)
    big, small = ImageFont.load_default(size=120), ImageFont.load_default(size=28)
    cx, cy = width // 2, 110 + (width - 160) // 2
    draw.text((cx, cy), initials(name), font=big, fill=(240, 232, 215), anchor="mm")
    draw.text((cx, height - 120), name, font=small, fill=(240, 232, 215), anchor="mm")
    if subtitle:
        draw.text((cx, height - 80), subtitle[:40], font=small, fill=(200, 190, 170), anchor="mm")
    out = io.BytesIO()
    img.save(out, format="PNG")
    return out.getvalue()
