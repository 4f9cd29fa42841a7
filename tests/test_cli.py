"""The `ledger` command, end to end: tokens, imports, checkpoints, verification, bad configuration.

Each test drives `api.cli.app` through typer's CliRunner with the configuration the command reads
from the environment (database URL, signing key file, origin), and checks what the command printed,
how it exited, and what is in the log afterwards. Storage tests run on SQLite and on PostgreSQL.
"""

import json
import os
import re
import sqlite3
import stat
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization
from typer.testing import CliRunner, Result

from api import backfill_lines
from api.cli import app
from domain.organizations import Organization, Role
from examples import journey
from ledger.application import Ledger
from ledger.checkpoints import load_or_create_signing_key, verify_note
from tests.builders import contact, envelope, preference, separation
from tests.test_refusals_write_nothing import row_counts

CLI_ORIGIN = "cli.test/ms-l"
_ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")

Run = Callable[..., Result]


def plain(text: str) -> str:
    """Output without terminal styling (rich decides on colour once, at import)."""
    return _ANSI.sub("", text)


def one_line(text: str) -> str:
    """Output with rich's wrapping at the console width undone."""
    return " ".join(plain(text).split())


def assert_fails_with_one_line_reason(result: Result, *fragments: str, code: int | None = 1) -> str:
    """Exited non-zero (exactly `code` unless None) on purpose, with one `error:` line on stderr."""
    if code is None:
        assert result.exit_code != 0, result.output
    else:
        assert result.exit_code == code, result.output
    assert isinstance(result.exception, SystemExit), f"the command crashed instead of failing: {result.exception!r}"
    assert "Traceback" not in result.output
    lines = plain(result.stderr).strip().splitlines()
    assert len(lines) == 1, f"expected a one-line reason, got {lines!r}"
    assert lines[0].startswith("error: "), lines[0]
    for fragment in fragments:
        assert fragment in lines[0], f"{fragment!r} not in {lines[0]!r}"
    return lines[0]


def assert_import_refused(result: Result, *fragments: str) -> list[str]:
    """Exited 1 on purpose, with each problem found on its own line and a last `error:` line saying
    that nothing was appended; returns the problems' lines."""
    assert result.exit_code == 1, result.output
    assert isinstance(result.exception, SystemExit), f"the command crashed instead of failing: {result.exception!r}"
    assert "Traceback" not in result.output
    *problems, last = plain(result.stderr).strip().splitlines()
    assert last.startswith("error: ") and "nothing was appended" in last, last
    for fragment in fragments:
        assert fragment in plain(result.stderr), f"{fragment!r} not in {result.stderr!r}"
    return problems


def assert_succeeded(result: Result) -> None:
    assert result.exit_code == 0, f"exit {result.exit_code}: {result.output}{result.exception!r}"
    assert result.exception is None


@pytest.fixture
def key_file(tmp_path: Path) -> Path:
    return tmp_path / "keys" / "signing-key.pem"


@pytest.fixture
def cli(database_url: str, key_file: Path, monkeypatch: pytest.MonkeyPatch) -> Run:
    """Runs `ledger ARGS...` against this test's database, key file and origin."""
    monkeypatch.setenv("LEDGER_DATABASE_URL", database_url)
    monkeypatch.setenv("LEDGER_SIGNING_KEY_FILE", str(key_file))
    monkeypatch.setenv("LEDGER_ORIGIN", CLI_ORIGIN)
    runner = CliRunner()

    def run(*args: Any) -> Result:
        return runner.invoke(app, [str(arg) for arg in args])

    return run


def issue(cli: Run, name: str, organization: str, role: str = "agency") -> str:
    result = cli("tokens", "create", name, "--organization", organization, "--role", role)
    assert_succeeded(result)
    return result.stdout.strip()


def write_jsonl(path: Path, lines: Iterable[dict[str, Any] | str | bytes]) -> Path:
    """One line per item: envelopes as JSON, strings and bytes as they are."""
    with path.open("wb") as out:
        for line in lines:
            if isinstance(line, dict):
                line = json.dumps(line)
            out.write((line.encode() if isinstance(line, str) else line) + b"\n")
    return path


def topics_in_log(ledger: Ledger, topic: str) -> list[Any]:
    return [ledger.reader.decode(n) for n in ledger.store.select_notifications(start=None, limit=1000, topics=[topic])]


def event_ids_in_log(ledger: Ledger, envelopes: Iterable[dict[str, Any]]) -> set[str]:
    return set(ledger.store.known_event_ids([e["event_id"] for e in envelopes]))


# --- tokens ------------------------------------------------------------------------------------


def test_tokens_create_prints_the_secret_once_on_stdout_and_the_secret_authenticates_as_its_organization(
    cli: Run, ledger: Ledger
) -> None:
    result = cli("tokens", "create", "kind-intake", "--organization", "KIND", "--role", "agency")

    assert_succeeded(result)
    secret = result.stdout.strip()
    assert len(result.stdout.strip().splitlines()) == 1, "stdout holds the secret and nothing else"
    assert secret.startswith("kind-intake.")
    assert secret not in result.stderr
    assert result.output.count(secret) == 1, "the secret is shown exactly once"
    principal = ledger.tokens.authenticate(secret)
    assert principal is not None
    assert (principal.name, principal.organization, principal.role) == ("kind-intake", Organization.KIND, Role.AGENCY)
    assert ledger.tokens.authenticate(secret + "x") is None


def test_tokens_create_refuses_a_name_already_issued_with_a_one_line_reason_and_keeps_the_first_token(
    cli: Run, ledger: Ledger
) -> None:
    first = issue(cli, "kind-intake", "KIND")

    again = cli("tokens", "create", "kind-intake", "--organization", "KIND", "--role", "agency")

    assert_fails_with_one_line_reason(again, "kind-intake", "already exists")
    assert again.stdout == "", "no second secret is printed"
    assert ledger.tokens.authenticate(first) is not None
    assert len(topics_in_log(ledger, "TokenIssued")) == 1


def test_tokens_create_refuses_an_invalid_name_with_a_one_line_reason(cli: Run, ledger: Ledger) -> None:
    result = cli("tokens", "create", "Not A Name", "--organization", "KIND", "--role", "agency")

    assert_fails_with_one_line_reason(result, "token name")
    assert ledger.store.tree_size() == 0


def test_tokens_list_shows_names_organizations_roles_and_revocation_but_never_a_secret(cli: Run) -> None:
    kind = issue(cli, "kind-intake", "KIND")
    monitor = issue(cli, "court-monitor", "MONITOR", "monitor")
    assert_succeeded(cli("tokens", "revoke", "court-monitor", "--reason", "rotated"))

    result = cli("tokens", "list")

    assert_succeeded(result)
    rows = {}
    for line in plain(result.stdout).splitlines():
        cells = [cell for cell in re.split(r"[│┃|]", line) if cell.strip()]
        if len(cells) == 4:
            rows[cells[0].strip()] = [cell.strip() for cell in cells[1:]]
    assert rows["kind-intake"] == ["KIND", "agency", "no"]
    assert rows["court-monitor"] == ["MONITOR", "monitor", "yes"]
    for secret in (kind, monitor):
        assert secret not in result.output
        assert secret.partition(".")[2] not in result.output


def test_tokens_revoke_stops_the_token_authenticating_at_once(cli: Run, ledger: Ledger) -> None:
    secret = issue(cli, "kind-intake", "KIND")
    assert ledger.tokens.authenticate(secret) is not None

    result = cli("tokens", "revoke", "kind-intake", "--reason", "left the project")

    assert_succeeded(result)
    assert ledger.tokens.authenticate(secret) is None
    assert ledger.tokens.principal_named("kind-intake") is None


def test_tokens_revoke_of_an_unknown_name_exits_1_with_a_one_line_reason(cli: Run, ledger: Ledger) -> None:
    result = cli("tokens", "revoke", "nobody", "--reason", "typo")

    assert_fails_with_one_line_reason(result, "nobody")
    assert ledger.store.tree_size() == 0


@pytest.mark.parametrize("reason", ["", "   ", "x" * 201])
def test_tokens_revoke_without_a_reason_that_can_be_recorded_exits_1_and_records_nothing(
    cli: Run, ledger: Ledger, reason: str
) -> None:
    """Found: `--reason ''` was accepted, recording a revocation with no reason."""
    issue(cli, "kind-intake", "KIND")

    assert_fails_with_one_line_reason(cli("tokens", "revoke", "kind-intake", "--reason", reason), "a reason of 1-200 characters")
    assert topics_in_log(ledger, "TokenRevoked") == []


@pytest.mark.parametrize(
    ("name", "organization"), [("Bad Name", "FRTF"), ("x" * 41, "FRTF"), ("monitor-agency", "MONITOR")], ids=["spaces", "long", "nothing-to-post"]
)
def test_tokens_create_refused_where_there_is_no_ledger_makes_no_ledger_and_no_key(
    name: str, organization: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Found: a token name refused had already made the ledger's database and its key files."""
    monkeypatch.chdir(tmp_path)
    for variable in ("LEDGER_DATABASE_URL", "LEDGER_SIGNING_KEY_FILE", "LEDGER_ENCRYPTION_KEY_FILE"):
        monkeypatch.delenv(variable, raising=False)

    result = CliRunner().invoke(app, ["tokens", "create", name, "--organization", organization, "--role", "agency"])

    assert_fails_with_one_line_reason(result)
    assert not (tmp_path / "var").exists(), "nothing was created"


@pytest.mark.parametrize("organization", ["MONITOR", "OIG"])
def test_an_agency_token_of_an_organization_that_may_post_nothing_is_refused(cli: Run, ledger: Ledger, organization: str) -> None:
    """Found: an agency token of MONITOR was issued, though it could post nothing."""
    result = cli("tokens", "create", "nothing-to-post", "--organization", organization, "--role", "agency")

    assert_fails_with_one_line_reason(result, f"{organization} may post no event type", "monitor or auditor token")
    assert ledger.store.tree_size() == 0


def test_importing_as_a_token_that_is_not_an_agencys_says_which_role_it_is(cli: Run, tmp_path: Path) -> None:
    issue(cli, "oig-audit", "OIG", role="auditor")

    result = cli("import", write_jsonl(tmp_path / "one.jsonl", [separation("FRTF-000001")]), "--as", "oig-audit")

    assert_fails_with_one_line_reason(result, "oig-audit is an auditor token: only agency tokens post events")


def test_tokens_revoke_of_a_token_already_revoked_exits_1_and_records_nothing_more(cli: Run, ledger: Ledger) -> None:
    issue(cli, "kind-intake", "KIND")
    assert_succeeded(cli("tokens", "revoke", "kind-intake", "--reason", "first"))

    result = cli("tokens", "revoke", "kind-intake", "--reason", "second")

    assert_fails_with_one_line_reason(result, "kind-intake", "already revoked")
    assert len(topics_in_log(ledger, "TokenRevoked")) == 1


def test_issuing_and_revoking_a_token_are_events_in_the_log_that_never_hold_the_secret(
    cli: Run, ledger: Ledger
) -> None:
    secret = issue(cli, "kind-intake", "KIND")
    assert_succeeded(cli("tokens", "revoke", "kind-intake", "--reason", "left the project"))

    [issued] = topics_in_log(ledger, "TokenIssued")
    [revoked] = topics_in_log(ledger, "TokenRevoked")
    assert issued.data["name"] == "kind-intake"
    assert (issued.data["organization"], issued.data["role"]) == ("KIND", "agency")
    assert revoked.data["reason"] == "left the project"
    assert issued.case_id == revoked.case_id == "token:kind-intake"
    logged = ledger.reader.log(0, 100)
    assert [entry.position for entry, _ in logged] == [1, 2]
    assert [event.type for _, event in logged] == ["TokenIssued", "TokenRevoked"]
    assert all(entry.leaf_hash is not None for entry, _ in logged), "token events are leaves of the tree"
    assert ledger.store.tree_size() == 2
    for entry, _ in logged:
        assert secret.encode() not in entry.stored.state
        assert secret.partition(".")[2].encode() not in entry.stored.state


# --- import ------------------------------------------------------------------------------------


def test_import_appends_every_envelope_of_a_valid_file_as_the_named_token(
    cli: Run, ledger: Ledger, tmp_path: Path
) -> None:
    issue(cli, "frtf-intake", "FRTF")
    issue(cli, "kind-outreach", "KIND")
    separations = [separation(f"FRTF-00000{i}") for i in range(1, 4)]
    outreach = [contact("FRTF-000001"), contact("FRTF-000002", "reached"), preference("FRTF-000002")]

    first = cli("import", write_jsonl(tmp_path / "separations.jsonl", separations), "--as", "frtf-intake")
    second = cli("import", write_jsonl(tmp_path / "outreach.jsonl", outreach), "--as", "kind-outreach")

    assert_succeeded(first)
    assert "3 events appended, 0 already in the log" in one_line(first.stderr)
    assert_succeeded(second)
    assert "3 events appended, 0 already in the log" in one_line(second.stderr)
    assert ledger.store.tree_size() - 2 == 6  # two token events
    assert event_ids_in_log(ledger, separations + outreach) == {e["event_id"] for e in separations + outreach}
    case = ledger.reader.case("FRTF-000002")
    assert case is not None
    history = ledger.reader.history("FRTF-000002")
    assert history is not None
    posted_by = {(item.event.type, item.event.organization) for item in history.items}
    assert posted_by == {("SeparationIdentified", "FRTF"), ("ContactAttempted", "KIND"), ("PreferenceRecorded", "KIND")}


def test_reimporting_the_same_file_appends_nothing_and_exits_0_saying_it_is_already_in_the_log(
    cli: Run, ledger: Ledger, tmp_path: Path
) -> None:
    issue(cli, "frtf-intake", "FRTF")
    backfill = write_jsonl(tmp_path / "backfill.jsonl", [separation(f"FRTF-00000{i}") for i in range(1, 4)])
    assert_succeeded(cli("import", backfill, "--as", "frtf-intake", "--batch-size", "2"))
    size = ledger.store.tree_size()

    again = cli("import", backfill, "--as", "frtf-intake", "--batch-size", "2")

    assert_succeeded(again)
    assert "0 events appended, 3 already in the log" in one_line(again.stderr)
    assert ledger.store.tree_size() == size


@pytest.mark.parametrize(
    ("bad_line", "named"),
    [
        pytest.param(separation("FRTF-000002", certainty="bogus"), None, id="unknown-top-level-field"),
        pytest.param(
            {**separation("FRTF-000002"), "data": {**separation("FRTF-000002")["data"], "certainty": "bogus"}},
            "data.certainty",
            id="bad-enum",
        ),
        pytest.param('{"event_id": "6f1c0b1e-3c1a-4c1e-9a43-2b1d1e7c0a11", "case_id": ', None, id="broken-json"),
    ],
)
def test_a_file_with_one_invalid_line_in_the_middle_exits_1_naming_the_line_and_appends_nothing(
    cli: Run, ledger: Ledger, tmp_path: Path, bad_line: dict[str, Any] | str, named: str | None
) -> None:
    issue(cli, "frtf-intake", "FRTF")
    lines = [separation("FRTF-000001"), separation("FRTF-000003"), bad_line, separation("FRTF-000004")]
    backfill = write_jsonl(tmp_path / "backfill.jsonl", lines)

    result = cli("import", backfill, "--as", "frtf-intake", "--batch-size", "1")

    problems = assert_import_refused(result, "line 3")
    assert problems and all(line.startswith("line 3: ") for line in problems), problems
    if named:
        assert any(named in line for line in problems)
    assert ledger.store.tree_size() == 1, "only the token's own event"


def test_a_file_with_a_line_that_is_not_utf8_exits_1_naming_the_line_and_appends_nothing(
    cli: Run, ledger: Ledger, tmp_path: Path
) -> None:
    issue(cli, "frtf-intake", "FRTF")
    lines = [separation("FRTF-000001"), separation("FRTF-000003"), b'{"case_id": "\xff\xfe"}', separation("FRTF-000004")]
    backfill = write_jsonl(tmp_path / "backfill.jsonl", lines)

    result = cli("import", backfill, "--as", "frtf-intake", "--batch-size", "1")

    assert assert_import_refused(result) == ["line 3: line: not valid UTF-8"]
    assert ledger.store.tree_size() == 1


def test_a_line_giving_a_key_twice_in_one_object_exits_1_naming_it_and_appends_nothing(
    cli: Run, ledger: Ledger, tmp_path: Path
) -> None:
    """As the API refuses such a body (domain/canonical_json.py): which of the two values stands is not defined."""
    issue(cli, "frtf-intake", "FRTF")
    twice = json.dumps(separation("FRTF-000002")).replace('"nationality": "GT"', '"nationality": "GT", "nationality": "HN"')
    backfill = write_jsonl(tmp_path / "backfill.jsonl", [separation("FRTF-000001"), twice])

    result = cli("import", backfill, "--as", "frtf-intake")

    assert assert_import_refused(result) == ["line 2: line: the JSON gives the key 'nationality' twice in one object: which one stands is not defined"]
    assert ledger.store.tree_size() == 1


def test_a_file_with_many_bad_lines_reports_every_one_with_its_line_and_field_and_writes_nothing(
    cli: Run, database_url: str, tmp_path: Path
) -> None:
    issue(cli, "frtf-intake", "FRTF")
    bad_enum = separation("FRTF-000002")
    bad_enum["data"] = {**bad_enum["data"], "certainty": "bogus"}
    lines = [
        separation("FRTF-000001"),
        bad_enum,
        "",
        '{"event_id": ',
        {**separation("FRTF-000003"), "type": "Nonsense"},
        contact("FRTF-000001"),  # FRTF may not post ContactAttempted
        separation("FRTF-000004"),
    ]
    backfill = write_jsonl(tmp_path / "backfill.jsonl", lines)
    before = row_counts(database_url)

    result = cli("import", backfill, "--as", "frtf-intake")

    problems = assert_import_refused(result, "4 problem(s) on 4 line(s)")
    assert [line.split(":")[0] + ":" + line.split(":")[1] for line in problems] == [
        "line 2: data.certainty",
        "line 4: line",
        "line 5: type",
        "line 6: type",
    ]
    assert "FRTF may not post ContactAttempted; FRTF may post SeparationIdentified" in problems[3]
    assert row_counts(database_url) == before


@pytest.mark.parametrize(("cap", "shown"), [(None, 50), (5, 5)])
def test_problems_past_the_cap_are_counted_not_listed(
    cli: Run, database_url: str, tmp_path: Path, cap: int | None, shown: int
) -> None:
    issue(cli, "frtf-intake", "FRTF")
    backfill = write_jsonl(tmp_path / "backfill.jsonl", [separation(f"FRTF-{i:06}", certainty="bogus") for i in range(60)])
    before = row_counts(database_url)

    result = cli("import", backfill, "--as", "frtf-intake", *(["--max-problems", cap] if cap else []))

    problems = assert_import_refused(result, "60 problem(s) on 60 line(s)")
    assert problems[:shown] == [f"line {n}: certainty: Extra inputs are not permitted" for n in range(1, shown + 1)]
    assert problems[shown:] == [f"... and {60 - shown} more"]
    assert row_counts(database_url) == before


def test_a_pipe_is_refused_not_imported_as_empty(cli: Run, database_url: str, tmp_path: Path) -> None:
    """Found: `cat f.jsonl | ledger import /dev/stdin` checked the pipe, then read it again empty and
    said "0 events appended", exit 0. A file is read twice (checked whole first): only a regular one."""
    issue(cli, "frtf-intake", "FRTF")
    fifo = tmp_path / "backfill.fifo"
    os.mkfifo(fifo)
    before = row_counts(database_url)
    result = cli("import", fifo, "--as", "frtf-intake")
    assert result.exit_code == 2 and "not a regular file" in result.output
    assert row_counts(database_url) == before


def test_a_line_longer_than_a_batch_the_api_takes_is_a_problem_of_its_own_not_read_whole(
    cli: Run, database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(backfill_lines, "MAX_LINE_BYTES", 1_000)
    issue(cli, "frtf-intake", "FRTF")
    long = {**separation("FRTF-000002"), "data": {**separation("FRTF-000002")["data"], "source": "x" * 5_000}}
    backfill = write_jsonl(tmp_path / "backfill.jsonl", [separation("FRTF-000001"), long, separation("FRTF-000003")])
    before = row_counts(database_url)
    problems = assert_import_refused(cli("import", backfill, "--as", "frtf-intake"), "1 problem(s) on 1 line(s)")
    assert problems == ["line 2: line: longer than 1,000 bytes (one envelope per line)"]
    assert row_counts(database_url) == before


def test_a_byte_order_mark_is_read_past_and_an_api_body_on_a_line_is_named_as_such(
    cli: Run, database_url: str, tmp_path: Path
) -> None:
    issue(cli, "frtf-intake", "FRTF")
    marked = tmp_path / "marked.jsonl"
    marked.write_bytes(b"\xef\xbb\xbf" + json.dumps(separation("FRTF-000001")).encode() + b"\n")
    assert_succeeded(cli("import", marked, "--as", "frtf-intake"))
    body = write_jsonl(tmp_path / "body.jsonl", [{"events": [separation("FRTF-000002")]}])
    before = row_counts(database_url)
    problems = assert_import_refused(cli("import", body, "--as", "frtf-intake"), "1 problem(s) on 1 line(s)")
    assert problems == ['line 1: line: an API request body ({"events": [...]}): a backfill has one envelope per line']
    assert row_counts(database_url) == before


def test_the_example_journey_imports_file_by_file_each_as_its_organizations_token(cli: Run, ledger: Ledger) -> None:
    ledger.appender.adopt_default_terms()  # as the API does on its first start: the court order extends them
    for organization in dict.fromkeys(example.organization for example in journey()):
        issue(cli, f"{organization.lower()}-examples", organization)
    for example in journey():
        result = cli("import", example.path, "--as", f"{example.organization.lower()}-examples")
        assert_succeeded(result)
        assert f"{len(example.envelopes)} events appended, 0 already in the log" in one_line(result.stderr)
    assert event_ids_in_log(ledger, [e for example in journey() for e in example.envelopes]) == {
        e["event_id"] for example in journey() for e in example.envelopes
    }


def test_the_example_journey_imports_with_the_command_line_alone(cli: Run, ledger: Ledger) -> None:
    """Found: on a ledger the server had never opened, the court order's DeadlineExtended was refused
    ("no terms adopted yet"): import now decides under the settlement's terms, as the server does."""
    assert_succeeded(cli("migrate"))
    for organization in dict.fromkeys(example.organization for example in journey()):
        issue(cli, f"{organization.lower()}-examples", organization)
    for example in journey():
        assert_succeeded(cli("import", example.path, "--as", f"{example.organization.lower()}-examples"))

    assert ledger.reader.terms_at(ledger.reader.tree_size()).version >= 1


def test_a_backfill_bringing_its_own_terms_is_decided_under_them_not_the_default_terms(
    cli: Run, ledger: Ledger, tmp_path: Path
) -> None:
    """Found: `ledger import` adopted the default terms before any batch holding a settlement
    event, so a backfill with its own TermsAdopted (version 1) was refused as a second adoption."""
    issue(cli, "doj-orders", "DOJ")
    terms = envelope("SETTLEMENT", "TermsAdopted", {"terms_version": 1, "effective_date": "2023-12-11", "obligations": {"first_outreach": {"days": 45}}})
    order = envelope("SETTLEMENT", "DeadlineExtended", {"court_order_id": "ECF 9", "obligation": "first_outreach", "extension": {"months": 1}, "effective_date": "2024-01-01"})

    assert_succeeded(cli("import", write_jsonl(tmp_path / "terms.jsonl", [terms, order]), "--as", "doj-orders"))

    adopted = topics_in_log(ledger, "TermsAdopted")
    assert [event.data["obligations"]["first_outreach"]["days"] for event in adopted] == [45], "only the file's terms"


def test_a_later_batch_that_breaks_a_domain_rule_is_not_appended_at_all_while_earlier_batches_stay(
    cli: Run, ledger: Ledger, tmp_path: Path
) -> None:
    issue(cli, "frtf-intake", "FRTF")
    issue(cli, "kind-outreach", "KIND")
    separations = [separation("FRTF-000001"), separation("FRTF-000002")]
    assert_succeeded(cli("import", write_jsonl(tmp_path / "separations.jsonl", separations), "--as", "frtf-intake"))
    size = ledger.store.tree_size()
    first_batch = [contact("FRTF-000001"), contact("FRTF-000002")]
    failing_batch = [contact("FRTF-000001", "reached"), contact("FRTF-999999")]  # never identified
    never_reached = [contact("FRTF-000002", "reached")]
    backfill = write_jsonl(tmp_path / "outreach.jsonl", first_batch + failing_batch + never_reached)

    result = cli("import", backfill, "--as", "kind-outreach", "--batch-size", "2")

    reason = assert_fails_with_one_line_reason(result, "line 4", "lines 3-4", "2 events before it were")
    assert "FRTF-999999" in reason
    assert ledger.store.tree_size() == size + 2
    assert event_ids_in_log(ledger, first_batch) == {e["event_id"] for e in first_batch}
    assert event_ids_in_log(ledger, failing_batch + never_reached) == set(), "line 3 shared the failing batch"


def test_importing_as_an_unknown_token_exits_1_and_appends_nothing(cli: Run, ledger: Ledger, tmp_path: Path) -> None:
    issue(cli, "frtf-intake", "FRTF")
    backfill = write_jsonl(tmp_path / "backfill.jsonl", [separation("FRTF-000001")])

    result = cli("import", backfill, "--as", "frtf-nobody")

    assert_fails_with_one_line_reason(result, "frtf-nobody")
    assert ledger.store.tree_size() == 1


def test_importing_as_a_revoked_token_exits_1_and_appends_nothing(cli: Run, ledger: Ledger, tmp_path: Path) -> None:
    issue(cli, "frtf-intake", "FRTF")
    assert_succeeded(cli("tokens", "revoke", "frtf-intake", "--reason", "rotated"))
    backfill = write_jsonl(tmp_path / "backfill.jsonl", [separation("FRTF-000001")])

    result = cli("import", backfill, "--as", "frtf-intake")

    assert_fails_with_one_line_reason(result, "frtf-intake")
    assert ledger.store.tree_size() == 2


def test_importing_an_event_type_the_tokens_organization_may_not_post_exits_1_and_appends_nothing(
    cli: Run, ledger: Ledger, tmp_path: Path
) -> None:
    issue(cli, "kind-outreach", "KIND")
    backfill = write_jsonl(tmp_path / "backfill.jsonl", [separation("FRTF-000001"), separation("FRTF-000002")])

    result = cli("import", backfill, "--as", "kind-outreach")

    problems = assert_import_refused(result)
    assert [line.split(";")[0] for line in problems] == [
        "line 1: type: KIND may not post SeparationIdentified",
        "line 2: type: KIND may not post SeparationIdentified",
    ]
    assert "KIND may post ContactAttempted" in problems[0]
    assert ledger.store.tree_size() == 1


def test_importing_as_a_token_whose_role_may_not_post_exits_1_and_appends_nothing(
    cli: Run, ledger: Ledger, tmp_path: Path
) -> None:
    issue(cli, "frtf-auditor", "FRTF", "auditor")
    backfill = write_jsonl(tmp_path / "backfill.jsonl", [separation("FRTF-000001")])

    result = cli("import", backfill, "--as", "frtf-auditor")

    assert_fails_with_one_line_reason(result, "auditor")
    assert ledger.store.tree_size() == 1


# --- checkpoint and verify ---------------------------------------------------------------------


def test_checkpoint_prints_json_of_a_tree_head_signed_over_the_whole_log(
    cli: Run, ledger: Ledger, key_file: Path, tmp_path: Path
) -> None:
    issue(cli, "frtf-intake", "FRTF")
    backfill = write_jsonl(tmp_path / "backfill.jsonl", [separation(f"FRTF-00000{i}") for i in range(1, 5)])
    assert_succeeded(cli("import", backfill, "--as", "frtf-intake"))

    result = cli("checkpoint")

    assert_succeeded(result)
    printed = json.loads(plain(result.stdout))
    assert printed["tree_size"] == ledger.store.tree_size() == 5
    assert printed["root_hash"] == ledger.tree.root(5).hex()
    public_key = load_or_create_signing_key(key_file).public_key().public_bytes(
        serialization.Encoding.Raw, serialization.PublicFormat.Raw
    )
    size, root, timestamp = verify_note(printed["note"], public_key, CLI_ORIGIN)
    assert (size, root.hex(), timestamp) == (5, printed["root_hash"], printed["timestamp"])
    assert ledger.signed_heads.at(5) is not None, "the signed checkpoint is stored"


def test_the_signing_key_file_is_created_by_the_first_command_with_mode_0600(cli: Run, key_file: Path) -> None:
    assert not key_file.exists()

    assert_succeeded(cli("migrate"))

    assert key_file.exists()
    assert stat.S_IMODE(os.stat(key_file).st_mode) == 0o600


@pytest.mark.parametrize(
    "command",
    [("checkpoint", "--show-key"), ("checkpoint",), ("tokens", "list"), ("report",), ("verify",), ("export", "--out", "bundle"),
     ("import", "README.md", "--as", "frtf"), ("forget", "FRTF-1", "--reason", "asked"), ("project",), ("rebuild",)],
)
def test_a_command_run_where_there_is_no_ledger_says_so_and_makes_none(
    command: tuple[str, ...], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Found: `ledger checkpoint --show-key` run from another directory made a new empty ledger and
    signing key there and printed that key. Only serve, migrate, demo and tokens create make one."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("LEDGER_DATABASE_URL", raising=False)
    monkeypatch.delenv("LEDGER_SIGNING_KEY_FILE", raising=False)
    (tmp_path / "README.md").write_text("{}\n")
    result = CliRunner().invoke(app, list(command))
    assert result.exit_code == 2 and "there is no ledger" in result.output, result.output
    assert not (tmp_path / "var").exists(), "nothing was created"


@pytest.mark.parametrize("missing", ["LEDGER_SIGNING_KEY_FILE", "LEDGER_ENCRYPTION_KEY_FILE"])
@pytest.mark.parametrize("command", [("verify",), ("checkpoint",), ("tokens", "list"), ("report",), ("migrate",), ("serve",)])
def test_a_command_missing_a_key_file_of_a_database_that_records_events_is_refused_and_makes_no_key(
    cli: Run, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, missing: str, command: tuple[str, ...]
) -> None:
    """Found: any command run without the ledger's key files (another directory, a typo in the
    setting) made new ones for the existing database: checkpoints signed by a key no verifier of
    the log trusts, personal data sealed beside data it cannot open. Then `serve` started anyway
    and failed in a traceback."""
    issue(cli, "frtf-intake", "FRTF")
    assert_succeeded(cli("import", write_jsonl(tmp_path / "backfill.jsonl", [separation("FRTF-000001")]), "--as", "frtf-intake"))
    assert_succeeded(cli("checkpoint"))
    elsewhere = tmp_path / "elsewhere" / "key"
    monkeypatch.setenv(missing, str(elsewhere))

    result = cli(*command)

    made = {"LEDGER_SIGNING_KEY_FILE": "signed checkpoints", "LEDGER_ENCRYPTION_KEY_FILE": "sealed personal data"}[missing]
    assert_fails_with_one_line_reason(result, f"the database holds {made}", str(elsewhere), missing, code=2)
    assert not elsewhere.parent.exists(), "no key was made"


@pytest.mark.parametrize("command", [("checkpoint",), ("serve",)])
def test_a_signing_key_other_than_the_checkpoints_is_refused_before_it_signs_anything(
    cli: Run, ledger: Ledger, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, command: tuple[str, ...]
) -> None:
    """Found: an existing key file of another ledger (or another LEDGER_ORIGIN) signed the next
    checkpoint, and every verifier of the log then saw its chain broken."""
    issue(cli, "frtf-intake", "FRTF")
    assert_succeeded(cli("import", write_jsonl(tmp_path / "backfill.jsonl", [separation("FRTF-000001")]), "--as", "frtf-intake"))
    assert_succeeded(cli("checkpoint"))
    assert_succeeded(cli("import", write_jsonl(tmp_path / "more.jsonl", [separation("FRTF-000002")]), "--as", "frtf-intake"))
    other = tmp_path / "other" / "signing-key.pem"
    load_or_create_signing_key(other)
    monkeypatch.setenv("LEDGER_SIGNING_KEY_FILE", str(other))

    result = cli(*command)

    assert_fails_with_one_line_reason(result, "does not verify with the signing key file", "nothing was signed", code=2)
    assert len(ledger.signed_heads.published()) == 1, "no checkpoint was signed by the other key"


@pytest.mark.parametrize("command", [("checkpoint",), ("tokens", "list"), ("report",), ("verify",), ("export", "--out", "bundle")])
def test_a_command_run_on_a_database_that_holds_no_ledger_says_so_and_creates_no_table(
    command: tuple[str, ...], database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Found: on a PostgreSQL schema never migrated, read commands run as the owner made the
    ledger's tables and answered about an empty log. As for a missing SQLite file: exit 2."""
    if database_url.startswith("sqlite"):
        sqlite3.connect(database_url.removeprefix("sqlite:///")).close()  # an empty database file
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("LEDGER_DATABASE_URL", database_url)
    monkeypatch.setenv("LEDGER_SIGNING_KEY_FILE", str(tmp_path / "key.pem"))

    result = CliRunner().invoke(app, list(command))

    assert_fails_with_one_line_reason(result, "there is no ledger in the database", "ledger migrate", code=2)
    with Ledger(database_url, create_tables=False) as ledger:
        assert not ledger.has_log(), "no table was created"
    assert not (tmp_path / "key.pem").exists() and not (tmp_path / "var").exists(), "no key file was made"


def test_verify_on_an_untouched_log_exits_0_and_reports_the_event_count_and_the_matching_checkpoint(
    cli: Run, tmp_path: Path
) -> None:
    issue(cli, "frtf-intake", "FRTF")
    backfill = write_jsonl(tmp_path / "backfill.jsonl", [separation(f"FRTF-00000{i}") for i in range(1, 4)])
    assert_succeeded(cli("import", backfill, "--as", "frtf-intake"))
    before = cli("verify")
    assert_succeeded(cli("checkpoint"))

    after = cli("verify")

    assert_succeeded(before)
    assert "verified 4 events" in one_line(before.stdout)
    assert_succeeded(after)
    assert "verified 4 events" in one_line(after.stdout)
    assert "signed checkpoint at tree size 4 matches" in one_line(after.stdout)
    assert "no signed checkpoint covers" not in one_line(after.stderr)


def test_verify_says_how_many_newest_events_no_checkpoint_covers_yet(cli: Run, tmp_path: Path) -> None:
    """Found: events appended after the last checkpoint were verified without a word that nothing
    outside the database vouches for them yet."""
    issue(cli, "frtf-intake", "FRTF")
    assert_succeeded(cli("import", write_jsonl(tmp_path / "first.jsonl", [separation("FRTF-000001")]), "--as", "frtf-intake"))
    assert_succeeded(cli("checkpoint"))
    later = write_jsonl(tmp_path / "later.jsonl", [separation("FRTF-000002"), separation("FRTF-000003")])
    assert_succeeded(cli("import", later, "--as", "frtf-intake"))

    result = cli("verify")

    assert_succeeded(result)
    assert "signed checkpoint at tree size 2 matches" in one_line(result.stdout)
    assert "the newest 2 events (after tree size 2)" in one_line(result.stderr)


def test_verify_of_a_directory_that_is_not_a_bundle_exits_1_with_a_one_line_reason(cli: Run, tmp_path: Path) -> None:
    bundle = tmp_path / "bundle"
    bundle.mkdir()

    result = cli("verify", bundle)

    assert_fails_with_one_line_reason(result, "NOT VERIFIED", "log.json is missing")


# --- bad configuration -------------------------------------------------------------------------

COMMANDS = {
    "tokens create": ["tokens", "create", "kind-intake", "--organization", "KIND", "--role", "agency"],
    "tokens list": ["tokens", "list"],
    "tokens revoke": ["tokens", "revoke", "kind-intake", "--reason", "rotated"],
    "import": ["import", "{backfill}", "--as", "frtf-intake"],
    "checkpoint": ["checkpoint"],
    "verify": ["verify"],
}


@pytest.fixture
def misconfigured(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Callable[[str, list[str]], Result]:
    """Runs a command with the given LEDGER_DATABASE_URL (and a valid key file and origin)."""
    monkeypatch.setenv("LEDGER_SIGNING_KEY_FILE", str(tmp_path / "keys" / "signing-key.pem"))
    monkeypatch.setenv("LEDGER_ORIGIN", CLI_ORIGIN)
    monkeypatch.setenv("POSTGRES_CONNECT_TIMEOUT", "1")  # an unreachable server fails fast
    backfill = write_jsonl(tmp_path / "backfill.jsonl", [separation("FRTF-000001")])

    def run(database_url: str, args: list[str]) -> Result:
        monkeypatch.setenv("LEDGER_DATABASE_URL", database_url)
        return CliRunner().invoke(app, [arg.format(backfill=backfill) for arg in args])

    return run


@pytest.mark.parametrize(("command", "option"), [(("serve", "--port", "99999"), "--port"), (("rebuild", "--workers", "1000"), "--workers")])
def test_an_option_out_of_its_range_is_refused_naming_it_before_anything_runs(cli: Run, command: tuple[str, ...], option: str) -> None:
    """Found: `serve --port 99999` announced a server on that port; `rebuild --workers 1000` hung."""
    result = cli(*command)

    assert result.exit_code == 2, result.output
    assert f"Invalid value for '{option}'" in plain(result.output)


@pytest.mark.parametrize(
    ("variable", "value"),
    [("LEDGER_MAX_BODY_BYTES", "abc"), ("LEDGER_LOG_LEVEL", "LOUD"), ("LEDGER_REPORT_WAIT_SECONDS", "-1"), ("LEDGER_PROJECTOR", "elsewhere"),
     ("LEDGER_ORIGIN", ""), ("LEDGER_ORIGIN", "has space")],  # found: an origin refused only on signing, exit 1
)
@pytest.mark.parametrize("command", [("verify",), ("tokens", "list"), ("serve",)])
def test_a_setting_that_cannot_be_used_makes_every_command_exit_2_naming_it(
    cli: Run, monkeypatch: pytest.MonkeyPatch, variable: str, value: str, command: tuple[str, ...]
) -> None:
    """Found: an invalid LEDGER_* value ended every command in pydantic's traceback."""
    monkeypatch.setenv(variable, value)

    assert_fails_with_one_line_reason(cli(*command), f"{variable}:", repr(value), code=2)


def test_a_database_file_that_is_not_a_database_is_one_line_not_a_traceback(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    not_a_database = tmp_path / "notes.txt"
    not_a_database.write_text("root:x:0:0:root:/root:/bin/bash\n" * 100)
    monkeypatch.setenv("LEDGER_DATABASE_URL", f"sqlite:///{not_a_database}")
    monkeypatch.setenv("LEDGER_SIGNING_KEY_FILE", str(tmp_path / "key.pem"))

    result = CliRunner().invoke(app, ["verify"])

    assert_fails_with_one_line_reason(result, "cannot open the database", "file is not a database")
    assert not_a_database.read_text() == "root:x:0:0:root:/root:/bin/bash\n" * 100


@pytest.mark.parametrize("where", ["a directory", "a missing directory"])
def test_report_out_where_no_file_can_be_written_exits_2_naming_the_option(cli: Run, tmp_path: Path, where: str) -> None:
    """Found: `ledger report --out` to a directory, or into one that does not exist, was a traceback."""
    assert_succeeded(cli("migrate"))
    out = tmp_path if where == "a directory" else tmp_path / "missing" / "report.json"

    assert_fails_with_one_line_reason(cli("report", "--out", out), "--out: cannot write", code=2)


@pytest.mark.parametrize("command", COMMANDS.values(), ids=COMMANDS.keys())
def test_a_database_url_of_an_unsupported_scheme_makes_every_command_exit_non_zero_with_a_one_line_reason(
    misconfigured: Callable[[str, list[str]], Result], command: list[str]
) -> None:
    result = misconfigured("mysql://x", command)

    assert_fails_with_one_line_reason(result, "mysql", code=None)


@pytest.mark.parametrize(
    "database_url",
    [
        pytest.param("sqlite://", id="sqlite-without-a-path"),
        pytest.param("postgresql:///ledger", id="postgresql-without-a-host"),
        pytest.param("sqlite:///{tmp_path}", id="sqlite-path-is-a-directory"),
        pytest.param("postgresql://postgres@127.0.0.1:1/ledger", id="postgresql-server-unreachable"),
    ],
)
@pytest.mark.parametrize("command", ["tokens list", "verify"])
def test_a_malformed_or_unusable_database_url_exits_non_zero_with_a_one_line_reason_not_a_traceback(
    misconfigured: Callable[[str, list[str]], Result], tmp_path: Path, database_url: str, command: str
) -> None:
    result = misconfigured(database_url.format(tmp_path=tmp_path), COMMANDS[command])

    assert_fails_with_one_line_reason(result, code=None)


@pytest.mark.parametrize(
    ("args", "named"),
    [
        (("--policy", "missing.policy"), "--policy: cannot read"),
        (("--policy", "."), "--policy: . is a directory"),
        (("--policy", "binary.policy"), "--policy: binary.policy is not UTF-8"),
        (("--checkpoint", "missing.note"), "--checkpoint: cannot read"),
        (("--public-key", "garbage!"), "--public-key: not base64"),
        (("--public-key", ""), "--public-key: 0 bytes of base64, not an Ed25519 key"),  # found: read as a key pinned
        (("--public-key", "AAAA"), "--public-key: 3 bytes of base64, not an Ed25519 key"),
    ],
)
def test_verify_dir_names_the_option_whose_file_or_key_it_cannot_use(
    args: tuple[str, ...], named: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Found: a missing or binary --policy file was "cannot use the given key or checkpoint"."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "binary.policy").write_bytes(b"\xff\xfe\x00")
    result = CliRunner().invoke(app, ["verify", str(tmp_path), *args])
    assert result.exit_code == 2 and named in result.output, result.output


@pytest.mark.parametrize("variable", ["LEDGER_SIGNING_KEY_FILE", "LEDGER_ENCRYPTION_KEY_FILE"])
def test_a_key_file_setting_naming_a_directory_is_blamed_on_the_key_file_not_the_database(
    cli: Run, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, variable: str
) -> None:
    """Found: a key path that was a directory was reported as "cannot open the database"."""
    monkeypatch.setenv(variable, str(tmp_path))

    result = cli("tokens", "create", "frtf-intake", "--organization", "FRTF", "--role", "agency")

    assert_fails_with_one_line_reason(result, f"the key file {tmp_path} cannot be read or created: Is a directory", code=2)
