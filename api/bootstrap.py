"""The composition root: what one process runs on, built in one place.

The API app (api/app.py) and every CLI command (api/cli.py) get their settings, ledger and
projection from `opened_runtime`; nothing else constructs them. Opening finishes any erasure a
`ledger forget` left unfinished and, for what needs them in force (the server, reports, the demo),
adopts the settlement's terms (once per database, whichever process does it first): a command
that does not need them (or is refused) writes nothing it was not asked to. A key file is created
only with the ledger it serves: a database holding what a key made is never given a new key.
"""

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import timedelta
from functools import cached_property
from pathlib import Path

from api.sessions import PURPOSE, Sessions
from api.settings import Settings
from domain.errors import ConfigurationError
from ledger.application import Ledger
from ledger.erasure import START_UP_WAIT_SECONDS, Erasure
from ledger.witnessing import CosignatureCollector
from projections.runner import Projection


@dataclass
class Runtime:
    settings: Settings
    ledger: Ledger
    erasure: Erasure | None = field(default=None)  # what opening found left to erase, if it looked

    @cached_property
    def projection(self) -> Projection:
        """The reports' projection (its tables created with their first generation if missing)."""
        return Projection(self.ledger, self.settings.projection)

    @cached_property
    def sessions(self) -> Sessions:
        """The dashboard's sessions, kept in the ledger's database (api/sessions.py)."""
        key = (self.ledger.signer or self.settings.signer).derive_secret(PURPOSE)
        return Sessions(key, timedelta(hours=self.settings.dashboard_session_hours), self.ledger.store)

    @cached_property
    def cosignatures(self) -> CosignatureCollector:
        """What asks the witnesses to cosign the ledger's checkpoints (ledger/witnessing.py)."""
        endpoints, poll = self.settings.witness_endpoints, self.settings.witness_poll_seconds
        return CosignatureCollector(self.ledger.store, self.ledger.tree, endpoints, poll)


class KeyFileMissing(ConfigurationError):
    """A key file is missing for a database that already records events: a new key would sign
    checkpoints no verifier of this log trusts, or seal personal data beside data it cannot open."""


_KEYS = {  # the setting, its Settings field, and what in the database a key file made
    "LEDGER_SIGNING_KEY_FILE": ("signing_key_file", "signed checkpoints"),
    "LEDGER_ENCRYPTION_KEY_FILE": ("encryption_key_file", "sealed personal data"),
}


def _refuse_new_keys_for_a_recorded_log(settings: Settings, check: Callable[[Ledger], None] | None = None) -> None:
    """Raises KeyFileMissing if a key file is not there (so opening would create one) while the
    database holds what the key it was used with made: a signed checkpoint, sealed personal data
    (a key that made nothing yet can still be chosen; SignedHeads.check_signer refuses a key file
    that is not the one the checkpoints verify with). `check` (e.g. a command's refusal of a
    database holding no ledger) runs first, on the database opened without keys: a refused command
    leaves no key file behind."""
    missing = {
        setting: (Path(getattr(settings, attribute)).absolute(), what)
        for setting, (attribute, what) in _KEYS.items()
        if not Path(getattr(settings, attribute)).exists()
    }
    if not missing:
        return
    with Ledger(settings.database_url, create_tables=False) as probe:
        if check is not None:
            check(probe)
        signed, sealed = probe.made_with_keys() if probe.has_log() else (False, False)
    made = {"LEDGER_SIGNING_KEY_FILE": signed, "LEDGER_ENCRYPTION_KEY_FILE": sealed}
    for setting, (path, what) in missing.items():
        if made[setting]:
            raise KeyFileMissing(
                f"the database holds {what}, but there is no key file at {path}: run this from the ledger's directory "
                f"or set {setting} to the key they were made with (a new key would not match them)"
            )


@contextmanager
def opened_runtime(
    settings: Settings | None = None,
    ledger: Ledger | None = None,
    *,
    finish_forgetting: bool = True,
    adopt_terms: bool = False,
    on_open: Callable[[Ledger], None] | None = None,
    create_tables: bool = True,
) -> Iterator[Runtime]:
    """The process's runtime, closed on leaving. `ledger` may be given (tests share one; it is
    then not closed here). `finish_forgetting=False` for the commands that do it themselves;
    `adopt_terms` for what needs the settlement's terms in force; `on_open` runs on the opened ledger before anything else (e.g. a CLI's check of the database);
    `create_tables=False` opens the log's tables as they are, creating none."""
    settings = settings or Settings()
    if ledger is None:
        _refuse_new_keys_for_a_recorded_log(settings, on_open)
    opened = ledger or Ledger(settings.database_url, settings.signer, settings.master_key, create_tables)
    try:
        if on_open is not None:
            on_open(opened)
        if adopt_terms:
            opened.appender.adopt_default_terms()
        erasure = opened.erasures.finish(START_UP_WAIT_SECONDS) if finish_forgetting else None
        yield Runtime(settings, opened, erasure)
    finally:
        if ledger is None:
            opened.close()
