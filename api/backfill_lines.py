"""Reading a backfill (JSON Lines of envelopes) for `ledger import`: every bad line, not the first.

An integrator's first backfill usually has many faults of a few kinds; told one at a time, they
fix one line per run. So the whole file is read before anything is appended, and every problem is
reported with its line number and field, as the API names each field of a refused batch: lines
that are not UTF-8 or not JSON, fields the envelope's schema refuses, and types the token's
organization may not post (checked first on each line, as the API checks permission before
validation).
"""

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import TypeAdapter, ValidationError

from domain.canonical_json import UnreadableJSON, read_json
from domain.catalog import CATALOG
from domain.envelope import Envelope, Posting
from domain.permissions import may_post, not_permitted

DEFAULT_MAX_PROBLEMS = 50
# A line is one envelope; the API refuses a whole batch over 4 MiB (LEDGER_MAX_BODY_BYTES' default).
MAX_LINE_BYTES = 4 * 1024 * 1024
_envelope = TypeAdapter(Envelope)
_BOM = b"\xef\xbb\xbf"


class NotAFile(Exception):
    """The path is not a regular file (a pipe, a device, a directory): it is read twice, checked
    whole before anything is appended, which a pipe cannot give."""


@dataclass(frozen=True, slots=True)
class LineProblem:
    line: int
    field: str
    message: str

    def __str__(self) -> str:
        return f"line {self.line}: {self.field}: {self.message}"


def _field(loc: tuple[int | str, ...]) -> str:
    """pydantic's location, e.g. ("ContactAttempted", "data", "children", 0, "name"), as the API
    names it: data.children[0].name (the event type, the union's tag, is not a field)."""
    parts = list(loc[1:] if loc and loc[0] in CATALOG else loc)
    return ".".join(f"[{p}]" if isinstance(p, int) else str(p) for p in parts).replace(".[", "[") or "envelope"


def _problems(number: int, error: ValidationError) -> list[LineProblem]:
    found = []
    for item in error.errors():
        field, message = _field(item["loc"]), item["msg"]
        if item["type"] == "json_invalid":
            field, message = "line", f"not valid JSON: {item['ctx']['error']}"
        elif item["type"] in ("union_tag_invalid", "union_tag_not_found"):
            field, message = "type", "must be an event type of the catalog (see `GET /v1/catalog`)"
        found.append(LineProblem(number, field, message))
    return found


def _refused_before_validation(number: int, line: str, organization: str) -> LineProblem | None:
    """The line's type, if it is a catalog type the organization may not post; a key given twice in
    one object (as the API refuses it: domain/canonical_json.py); or the mistake of a whole API request
    body on one line."""
    try:
        envelope: Any = read_json(line.encode())
    except UnreadableJSON as error:
        return LineProblem(number, "line", str(error))
    except (ValueError, RecursionError):
        return None  # reported by validation
    if isinstance(envelope, dict) and "events" in envelope and "type" not in envelope:
        return LineProblem(number, "line", 'an API request body ({"events": [...]}): a backfill has one envelope per line')
    event_type = envelope.get("type") if isinstance(envelope, dict) else None
    if isinstance(event_type, str) and event_type in CATALOG and not may_post(organization, event_type):
        return LineProblem(number, "type", not_permitted(organization, event_type))
    return None


def _bounded_lines(path: Path) -> Iterator[bytes | None]:
    """The file's lines; None for one longer than MAX_LINE_BYTES (read past, never held whole)."""
    if not path.is_file():
        raise NotAFile(f"{path} is not a regular file (a pipe or device cannot be read twice: the whole file is checked first); save it to a file")
    with path.open("rb") as lines:
        while raw := lines.readline(MAX_LINE_BYTES + 1):
            if len(raw) > MAX_LINE_BYTES and not raw.endswith(b"\n"):
                while (rest := lines.readline(MAX_LINE_BYTES)) and not rest.endswith(b"\n"):
                    pass
                yield None
            else:
                yield raw


def read_lines(path: Path, organization: str) -> Iterator[tuple[int, Posting | list[LineProblem]]]:
    """(line number, its posting or its problems) for every non-blank line of the file."""
    for number, raw in enumerate(_bounded_lines(path), start=1):
        if raw is None:
            yield number, [LineProblem(number, "line", f"longer than {MAX_LINE_BYTES:,} bytes (one envelope per line)")]
            continue
        if number == 1 and raw.startswith(_BOM):
            raw = raw[len(_BOM):]  # a byte-order mark, as spreadsheet tools write: not part of the JSON
        try:
            line = raw.decode("utf-8")
        except UnicodeDecodeError:
            yield number, [LineProblem(number, "line", "not valid UTF-8")]
            continue
        if not line.strip():
            continue
        forbidden = _refused_before_validation(number, line, organization)
        if forbidden is not None:
            yield number, [forbidden]
            continue
        try:
            yield number, Posting.from_envelope(_envelope.validate_json(line))
        except ValidationError as error:
            yield number, _problems(number, error)


@dataclass(frozen=True)
class Checked:
    """What reading the whole file found: how many postings, the first problems (in line order, at
    most the cap asked for: the rest are counted, not kept) and how many there were in all."""

    postings: int
    problems: list[LineProblem]
    total_problems: int
    bad_lines: int

    def report(self) -> list[str]:
        """The problems kept as lines of text, then how many more there are."""
        shown = [str(problem) for problem in self.problems]
        if self.total_problems > len(self.problems):
            shown.append(f"... and {self.total_problems - len(self.problems)} more")
        return shown


def check(path: Path, organization: str, cap: int = DEFAULT_MAX_PROBLEMS) -> Checked:
    postings, kept, total, bad_lines = 0, [], 0, 0
    for _, read in read_lines(path, organization):
        if isinstance(read, Posting):
            postings += 1
            continue
        bad_lines += 1
        total += len(read)
        kept.extend(read[: max(cap - len(kept), 0)])
    return Checked(postings, kept, total, bad_lines)


class FileChanged(Exception):
    """A line `check` found good is bad when read again to be appended (the file was changed)."""


def postings(path: Path, organization: str) -> Iterator[tuple[int, Posting]]:
    """(line number, posting) of a file `check` found no problem in."""
    for number, read in read_lines(path, organization):
        if not isinstance(read, Posting):
            raise FileChanged(f"line {number} changed while it was being imported ({read[0]})")
        yield number, read
