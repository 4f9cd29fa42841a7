"""Free text as people read it: one spelling per text, and nothing hidden in it.

Two texts that look alike must be the same text, or a report counts them apart: `El Paso` and
`El Paso` followed by an invisible ZERO WIDTH SPACE were two rows of the border-sector breakdown,
`Tucsón` composed (ó) and decomposed (o and U+0301) two more. So text is NFC-normalized (Unicode's
composed form of canonically equivalent spellings) and refuses what cannot be seen or changes how
the rest reads: control characters, format characters (zero-width spaces and joiners,
bidirectional overrides, the soft hyphen), the other default-ignorable code points, every space
but the plain one, line and paragraph separators, private-use and unassigned code points.
Multi-line text (notes, addresses) may keep its line breaks and tabs.
"""

import unicodedata

# General categories refused: Cc control, Cf format, Co private use, Cn unassigned, Cs surrogate,
# Zl/Zp line and paragraph separators, Zs spaces (the plain space excepted, below).
_REFUSED_CATEGORIES = frozenset({"Cc", "Cf", "Co", "Cn", "Cs", "Zl", "Zp", "Zs"})
# Code points that render as nothing but are letters or marks: the default-ignorable ones of
# Unicode's DerivedCoreProperties outside Cf (the combining grapheme joiner, Hangul fillers,
# Khmer inherent vowels, Mongolian and other variation selectors) and the blank Braille pattern.
_INVISIBLE = frozenset(
    {0x034F, 0x115F, 0x1160, 0x17B4, 0x17B5, 0x180B, 0x180C, 0x180D, 0x180F, 0x2800, 0x3164, 0xFFA0}
    | set(range(0xFE00, 0xFE10))
    | set(range(0xE0100, 0xE01F0))
)
LINE_BREAKS_AND_TABS = frozenset("\n\r\t")


def _refused(char: str, keep: frozenset[str]) -> bool:
    if char == " " or char in keep:
        return False
    return ord(char) in _INVISIBLE or unicodedata.category(char) in _REFUSED_CATEGORIES


def visible_text(text: str, keep: frozenset[str] = frozenset()) -> str:
    """`text` in NFC; ValueError naming the first character refused (those in `keep` excepted)."""
    if text.isascii() and text.isprintable():
        return text  # the common case: NFC leaves ASCII as it is, and it holds no control character
    normalized = unicodedata.normalize("NFC", text)
    for index, char in enumerate(normalized):
        if _refused(char, keep):
            raise ValueError(
                f"must not contain invisible, formatting or control characters: found {describe(char)} "
                f"at character {index + 1}"
            )
    return normalized


def revealed(text: str) -> str:
    """`text` with every character the door refuses written as [U+XXXX]: how a picture or a printed
    page shows text recorded before the door refused it (a look-alike stands out as one)."""
    if text.isascii() and text.isprintable():
        return text
    return "".join(f"[U+{ord(char):04X}]" if _refused(char, frozenset()) else char for char in text)


def single_line_text(text: str) -> str:
    return visible_text(text)


def multi_line_text(text: str) -> str:
    return visible_text(text, LINE_BREAKS_AND_TABS)


# Unicode gives control characters no names; these are the ones people know by name.
_CONTROL_NAMES = {0x00: "NUL", 0x09: "TAB", 0x0A: "LINE FEED", 0x0D: "CARRIAGE RETURN", 0x1B: "ESCAPE", 0x7F: "DELETE"}


def describe(char: str) -> str:
    """U+200B (ZERO WIDTH SPACE): how a refused character is named (it cannot be shown)."""
    name = unicodedata.name(char, None) or _CONTROL_NAMES.get(ord(char), "a control or unassigned character")
    return f"U+{ord(char):04X} ({name})"
