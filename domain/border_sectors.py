"""Where a separation happened: a U.S. Border Patrol sector or a southwest-border port of entry.

`border_sector` is a key of the report's breakdown, so each place must be one row, however it is
typed: a name is matched without regard to case, accents or spacing (and a trailing "Sector" or
"Port of Entry") and stored in the canonical spelling below. Anything else is refused, with the list.

Sources: the Border Patrol's twenty sectors as U.S. Customs and Border Protection lists them
(cbp.gov, "Border Patrol Sectors": nine on the southwest border, eight on the northern border,
three coastal); the land ports of entry on the Mexican border as CBP names them (cbp.gov,
"Locate a Port of Entry", California, Arizona, New Mexico and Texas; designated in 8 CFR 100.4(a)).
El Paso, Del Rio and Laredo are both a sector and a port: one name, one row.
"""

import unicodedata

SOUTHWEST_SECTORS = (
    "San Diego", "El Centro", "Yuma", "Tucson", "El Paso", "Big Bend", "Del Rio", "Laredo", "Rio Grande Valley",
)
NORTHERN_SECTORS = ("Blaine", "Spokane", "Havre", "Grand Forks", "Detroit", "Buffalo", "Swanton", "Houlton")
COASTAL_SECTORS = ("Miami", "New Orleans", "Ramey")
SECTORS = SOUTHWEST_SECTORS + NORTHERN_SECTORS + COASTAL_SECTORS

SOUTHWEST_PORTS_OF_ENTRY = (
    # California
    "San Ysidro", "Otay Mesa", "Tecate", "Calexico", "Calexico East", "Andrade",
    # Arizona
    "San Luis", "Lukeville", "Sasabe", "Nogales", "Naco", "Douglas",
    # New Mexico
    "Columbus", "Antelope Wells", "Santa Teresa",
    # Texas
    "El Paso", "Tornillo", "Fabens", "Presidio", "Boquillas", "Del Rio", "Eagle Pass", "Laredo",
    "Roma", "Rio Grande City", "Progreso", "Hidalgo", "Pharr", "Brownsville",
)

# Other names in use for the same place.
ALIASES = {
    "Marfa": "Big Bend",  # the sector's name until 2011
    "RGV": "Rio Grande Valley",
    "Calexico West": "Calexico",
}

BORDER_PLACES = tuple(dict.fromkeys(SECTORS + SOUTHWEST_PORTS_OF_ENTRY))  # canonical spellings, each once


def match_key(name: str) -> str:
    """What two spellings of one place share: no accents, case or extra spaces, no "Sector" or
    "Port of Entry" after the name."""
    unaccented = "".join(c for c in unicodedata.normalize("NFKD", name) if not unicodedata.combining(c))
    words = unaccented.casefold().replace("-", " ").split()
    for suffix in (["sector"], ["port", "of", "entry"], ["poe"]):
        if len(words) > len(suffix) and words[-len(suffix) :] == suffix:
            words = words[: -len(suffix)]
    return " ".join(words)


_CANONICAL = {match_key(name): name for name in BORDER_PLACES} | {
    match_key(alias): name for alias, name in ALIASES.items()
}
if len(_CANONICAL) != len(BORDER_PLACES) + len(ALIASES):
    raise RuntimeError("two border places (or an alias and a place) share a spelling")


def canonical_border_place(name: str) -> str:
    """The canonical spelling of the sector or port `name` names; ValueError listing them if none."""
    found = _CANONICAL.get(match_key(name))
    if found is None:
        raise ValueError(
            "must name a U.S. Border Patrol sector or a southwest-border port of entry. Sectors: "
            + ", ".join(SECTORS)
            + ". Ports of entry: "
            + ", ".join(SOUTHWEST_PORTS_OF_ENTRY)
            + " (case and accents do not matter)"
        )
    return found
