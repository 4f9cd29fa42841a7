"""Labels that fit: how wide a text is drawn, and a text cut to the room it has.

The dashboard's SVG is drawn with whatever sans-serif font the browser picks, so widths are
estimated rather than measured: about 0.62 em for most characters, a full em for wide ones (CJK,
fullwidth forms, most emoji), nothing for combining marks. A label wider than its room is cut,
with an ellipsis; the chart's table (and the report's) keeps it whole. Characters one cannot see
are shown as [U+XXXX] (domain.visible_text.revealed), so a look-alike recorded before the door
refused them stands out in the picture.
"""

import unicodedata

from domain.visible_text import revealed

ELLIPSIS = "…"


def text_width(text: str, size: float) -> float:
    ems = 0.0
    for char in text:
        if unicodedata.combining(char):
            continue
        ems += 1.0 if unicodedata.east_asian_width(char) in ("W", "F") else 0.62
    return ems * size


def fitted(text: str, room: float, size: float) -> str:
    """`text` as shown within `room` px at `size`: revealed, and cut with an ellipsis if too wide."""
    shown = revealed(text)
    if text_width(shown, size) <= room:
        return shown
    budget, used, kept = room - text_width(ELLIPSIS, size), 0.0, []
    for char in shown:
        used += text_width(char, size)
        if used > budget:
            break
        kept.append(char)
    return "".join(kept).rstrip() + ELLIPSIS
