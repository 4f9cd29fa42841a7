"""The small value types every payload is built from: identifiers, dates, countries, durations.

Validation happens here, at the door; events are rebuilt from storage without it.
"""

from datetime import UTC, date, datetime, timedelta
from typing import Annotated, Any
from uuid import UUID

from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PlainSerializer,
    StrictInt,
    StringConstraints,
    ValidationInfo,
    ValidatorFunctionWrapHandler,
    WrapValidator,
    model_validator,
)
from pydantic_extra_types.country import CountryAlpha2

# Clocks drift: an agency's occurred_at may run this far ahead of the ledger's clock.
CLOCK_SKEW = timedelta(minutes=5)
# A calendar date is "today" somewhere on Earth up to 14 hours before or after UTC.
DATE_SKEW = timedelta(days=1)
# No recorded fact is older; it also keeps every instant's UTC text a four-digit year.
EARLIEST_INSTANT = datetime(1900, 1, 1, tzinfo=UTC)

ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$"

CaseId = Annotated[
    str,
    StringConstraints(pattern=ID_PATTERN),
    Field(description="Pseudonymous case number, e.g. FRTF-000123 (letters, digits, - and _)."),
]
MemberId = Annotated[
    str,
    StringConstraints(pattern=ID_PATTERN),
    Field(description="Pseudonymous member id within the case."),
]


def _storable(text: str) -> str:
    """Text both backends store as sent: PostgreSQL's text type cannot hold NUL."""
    if "\x00" in text:
        raise ValueError("must not contain NUL characters (\\u0000)")
    return text


ShortText = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200), AfterValidator(_storable)]
LongText = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=4000), AfterValidator(_storable)]
Country = Annotated[
    CountryAlpha2,
    # The library would quietly upper-case "gt"; the record keeps what was sent, so refuse it.
    BeforeValidator(lambda v: v if not isinstance(v, str) or v.isupper() else _raise("must be upper case")),
    Field(description="ISO 3166-1 alpha-2 country code, upper case."),
]
Count = Annotated[StrictInt, Field(ge=0, le=1_000_000)]

# A correction's `changes` hold values of the corrected event's fields, the deepest (a member of
# a list of members) three levels down: deeper JSON is refused before anything recurses through it.
MAX_JSON_DEPTH = 8


def _plain_json(value: dict[str, Any]) -> dict[str, Any]:
    """JSON nested at most MAX_JSON_DEPTH levels deep, every text of it (keys too) storable."""
    pending: list[tuple[Any, int]] = [(value, 1)]
    while pending:
        item, depth = pending.pop()
        if isinstance(item, str):
            _storable(item)
            if not item.isascii():
                try:
                    item.encode()
                except UnicodeEncodeError:
                    raise ValueError("must be valid Unicode text (no lone surrogates)") from None
        elif isinstance(item, dict | list):
            if depth > MAX_JSON_DEPTH:
                raise ValueError(f"must be nested at most {MAX_JSON_DEPTH} levels deep")
            if isinstance(item, dict):
                pending.extend((key, depth) for key in item)
            pending.extend((child, depth + 1) for child in (item.values() if isinstance(item, dict) else item))
    return value


PlainJson = Annotated[dict[str, Any], AfterValidator(_plain_json)]

# Marks a field as personal data (names, phone numbers, addresses, free text): it never appears
# in logs or reports, and it is stored sealed (encrypted per case). The mark is published in the
# OpenAPI schema as `x-personal-data`.
PERSONAL: dict[str, Any] = {"x-personal-data": True}

# How a personal value is stored: the ledger replaces it with an opaque sealed text. A recorded
# entry validated again (a correction is checked against the entry it corrects) may hold such a
# value; one posted through the door may not.
SEALED_PREFIX = "sealed:"


def _sealed_when_stored(value: Any, handler: ValidatorFunctionWrapHandler, info: ValidationInfo) -> Any:
    if isinstance(value, str) and value.startswith(SEALED_PREFIX):
        if info.context and info.context.get("stored"):
            return value
        raise ValueError("must be plain text, not a sealed value")
    return handler(value)


PersonalShortText = Annotated[ShortText, WrapValidator(_sealed_when_stored)]
PersonalLongText = Annotated[LongText, WrapValidator(_sealed_when_stored)]


def _raise(message: str) -> Any:
    raise ValueError(message)


def _text_only(value: object) -> object:
    # JSON has no date or UUID type: accept their text only, never a number read as epoch seconds.
    if not isinstance(value, str | date | UUID):
        raise ValueError("must be a string")
    return value


EventId = Annotated[UUID, BeforeValidator(_text_only), Field(description="A UUID chosen by the poster.")]


def _not_in_future_date(value: date) -> date:
    if value > (datetime.now(UTC) + DATE_SKEW).date():
        raise ValueError("must not be in the future")
    return value


def _plausible_instant(value: datetime) -> datetime:
    if value > datetime.now(UTC) + CLOCK_SKEW:
        raise ValueError("must not be in the future")
    if value < EARLIEST_INSTANT:
        raise ValueError(f"must not be before {EARLIEST_INSTANT.year}")
    return value


IsoDate = Annotated[date, BeforeValidator(_text_only), Field(description="ISO 8601 date, YYYY-MM-DD.")]
PastDate = Annotated[IsoDate, AfterValidator(_not_in_future_date)]
Instant = Annotated[
    AwareDatetime,
    BeforeValidator(_text_only),
    AfterValidator(_plausible_instant),
    PlainSerializer(lambda v: utc_text(v), return_type=str, when_used="json"),
    Field(description="ISO 8601 date and time with a UTC offset, e.g. 2021-05-03T14:00:00Z."),
]


def _birth_year_not_in_future(value: int) -> int:
    if value > datetime.now(UTC).year:
        raise ValueError("must not be in the future")
    return value


BirthYear = Annotated[StrictInt, Field(ge=1900), AfterValidator(_birth_year_not_in_future)]


class Duration(BaseModel):
    """A calendar duration, as court orders state them (months are calendar months)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    years: Annotated[StrictInt, Field(ge=0, le=100)] = 0
    months: Annotated[StrictInt, Field(ge=0, le=1200)] = 0
    days: Annotated[StrictInt, Field(ge=0, le=36500)] = 0

    @model_validator(mode="after")
    def _not_zero(self) -> "Duration":
        if not (self.years or self.months or self.days):
            raise ValueError("a duration needs years, months or days")
        return self


def utc_text(instant: datetime) -> str:
    """The one textual form of an instant the ledger stores and hashes: UTC, microseconds, Z.
    (isoformat, not strftime: glibc's %Y writes the year 900 as "900", which sorts after "2021".)"""
    return instant.astimezone(UTC).isoformat(timespec="microseconds").removesuffix("+00:00") + "Z"
