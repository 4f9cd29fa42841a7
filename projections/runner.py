"""Running the case-status projection: following the log, rebuilding it blue/green, its lag.

eventsourcing's ProjectionRunner subscribes to the application recorder, which SQLite cannot do;
this loop polls the log head instead (a cheap indexed read) on both backends, so one code path
serves the API's in-process projector and `ledger project --follow`.

Code reads and writes only a generation written in its own format (projections/row_format.py FORMAT).
When the active one was written by an earlier version of the ledger, the projector (the API's,
`ledger project`, or `ledger migrate`) rebuilds it blue/green before projecting anything more,
and until the new generation is active reports refuse with 503 (ReadModelOutdated) rather than
read rows whose meaning has changed. One process builds: it claims the build by creating the
building generation, and keeps a heartbeat in its settings; a build whose heartbeat has stopped
for STALE_BUILD is taken to have died, and another process takes over.

A failure to project is recorded in the database (projections/projection_faults.py), where
/healthz and /metrics read it whichever process the projector runs in, and cleared once the
projection gets past it.
"""

import logging
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import fields
from datetime import UTC, datetime, timedelta
from typing import Any

from eventsourcing.persistence import IntegrityError, PersistenceError

from domain.errors import Unavailable
from domain.values import utc_text
from ledger.application import Ledger
from ledger.recorders.base import create_alongside_others
from projections import partitioned
from projections.case_status import CaseStatusProjector
from projections.projection_settings import ProjectionSettings
from projections.projection_faults import EventNotProjected, ProjectionFault
from projections.read_model import open_read_model
from projections.row_format import FORMAT

log = logging.getLogger(__name__)

HEARTBEAT = timedelta(seconds=15)  # how often a build says it is alive
STALE_BUILD = timedelta(minutes=10)  # a build silent this long has died


class ReadModelOutdated(Unavailable):
    """The active generation was written in another format than this code's: reports cannot be
    answered from it until it is rebuilt (or, if newer, until this process is upgraded)."""

    def __init__(self, found: int) -> None:
        if found < FORMAT:
            message = (
                f"the reports' tables were written by an earlier version of the ledger (format {found}) and are being "
                f"rebuilt for this one (format {FORMAT}); if this lasts, run `ledger migrate` as the database's owner"
            )
        else:
            message = (
                f"the reports' tables were written by a newer version of the ledger (format {found}; this process "
                f"reads format {FORMAT}): upgrade this process"
            )
        super().__init__(message)
        self.found = found


def _format(settings: Mapping[str, Any]) -> int:
    return int(settings.get("format", 1))  # the first format's generations did not say


class Projection:
    """The case-status projection of one ledger: whichever generation is active."""

    def __init__(self, ledger: Ledger, settings: ProjectionSettings | None = None) -> None:
        self.ledger = ledger
        self.settings = settings or ProjectionSettings()
        self.model = open_read_model(ledger)
        self._projector: CaseStatusProjector | None = None
        self._lock = threading.Lock()
        self._newer_seen = False
        self._fault_recorded: bool | None = None  # None: not known (another process may have left one)
        if self.model.active_generation() is None:
            create_alongside_others(self._create_first_generation)

    def _create_first_generation(self) -> None:
        try:
            self.model.create_generation(1, self._generation_settings(), state="active")
        except IntegrityError:
            pass  # another process created it first

    def _generation_settings(self) -> dict[str, Any]:
        return {**self.settings.as_json(), "format": FORMAT}

    def generation(self) -> int:
        active = self.model.active_generation()
        if active is None:
            raise RuntimeError("the projection has no active generation")
        return active

    def readable_generation(self) -> int:
        """The active generation, which reports may read: raises ReadModelOutdated if it was
        written in another format than this code's."""
        generations = self.model.generations()
        active = [generation for generation, (state, _) in generations.items() if state == "active"]
        if not active:
            raise RuntimeError("the projection has no active generation")
        found = _format(generations[active[0]][1])
        if found != FORMAT:
            raise ReadModelOutdated(found)
        return active[0]

    def late_report_days(self) -> int:
        """The threshold the active generation was built with (a change needs `ledger rebuild`)."""
        settings = self.model.generations()[self.generation()].settings
        return int(settings.get("late_report_days", self.settings.late_report_days))

    def tracked(self) -> int:
        return self.model.tracked(self.generation())

    def lag(self) -> int:
        return max(0, self.ledger.reader.tree_size() - self.tracked())

    def _active_projector(self) -> CaseStatusProjector:
        generation = self.generation()
        if self._projector is None or self._projector.generation != generation:
            stored = self.model.generations()[generation].settings
            known = {f.name for f in fields(ProjectionSettings)}
            self._projector = CaseStatusProjector(
                self.ledger,
                self.model,
                generation,
                ProjectionSettings(**{**self.settings.__dict__, **{k: v for k, v in stored.items() if k in known}}),
            )
        return self._projector

    def catch_up(self, progress: Callable[[int], None] | None = None) -> int:
        """Projects what the log holds now into the active generation, once it is of this code's
        format (one of an older format is rebuilt first); 0 while another process rebuilds it, or
        if it is of a newer format (left alone: a newer version of the ledger wrote it). A failure
        is recorded as the generation's fault before it is raised; a success clears the fault."""
        with self._lock:
            found = _format(self.model.generations()[self.generation()].settings)
            if found > FORMAT:
                if not self._newer_seen:  # said once: the follower asks ten times a second
                    log.warning("projection paused: a newer version of the ledger wrote the active generation (format %s)", found)
                    self._newer_seen = True
                return 0
            projector = None
            try:
                if found < FORMAT and not self._upgrade(progress):
                    return 0
                projector = self._active_projector()
                done = projector.catch_up(progress)
            except IntegrityError:
                raise  # another projector took this page: it is moving on, nothing is stalled
            except Exception as error:
                self._record_fault(error, projector)
                raise
            # Past any fault: this process's, or (having moved on) one another process recorded.
            if self._fault_recorded is not False or (done and self.model.fault(projector.generation) is not None):
                self.model.clear_fault(projector.generation)
                self._fault_recorded = False
            return done
    def _record_fault(self, error: Exception, projector: CaseStatusProjector | None) -> None:
        if isinstance(error, EventNotProjected):
            position, error_type = error.position, error.error_type
        else:  # a page that could not be read or written: the first position not yet projected
            position, error_type = (projector.position if projector else 0) + 1, type(error).__name__
        try:
            generation = projector.generation if projector else self.generation()
            self.model.record_fault(generation, position, error_type, utc_text(datetime.now(UTC)))
            self._fault_recorded = True
        except Exception as unrecorded:  # noqa: BLE001 - the database may be what failed; the cause is raised on
            log.warning("could not record the projection's fault: %s", type(unrecorded).__name__)

    def fault(self) -> ProjectionFault | None:
        """What the active generation last failed on, if it has not got past it since."""
        return self.model.fault(self.generation())

    def upgrade(self, progress: Callable[[int], None] | None = None, workers: int = 1) -> bool:
        """Rebuilds the active generation if it is of an older format than this code's; True once
        the active generation is of this code's format, False while another process rebuilds it.
        Raises ReadModelOutdated if a newer version of the ledger wrote it."""
        with self._lock:
            found = _format(self.model.generations()[self.generation()].settings)
            if found > FORMAT:
                raise ReadModelOutdated(found)
            return found == FORMAT or self._upgrade(progress, workers)

    def _upgrade(self, progress: Callable[[int], None] | None, workers: int = 1) -> bool:
        generations = self.model.generations()
        now = datetime.now(UTC)
        building = {g: settings for g, (state, settings) in generations.items() if state == "building"}
        alive = [
            g for g, settings in building.items()
            if _format(settings) == FORMAT and settings.get("heartbeat", "") >= utc_text(now - STALE_BUILD)
        ]
        if alive:
            return False  # another process is building it
        for leftover in building:  # died, or of another format
            self.model.drop_generation(leftover)
        new = max(generations, default=0) + 1
        settings = {**self._generation_settings(), "heartbeat": utc_text(now)}
        try:
            self.model.create_generation(new, settings, state="building")
        except IntegrityError:
            return False  # another process claimed it first
        log.warning("rebuilding the projection: its active generation was written by an earlier version of the ledger")
        try:
            self._build(new, settings, progress, workers)
        except BaseException:
            self._abandon(new)
            raise
        return True

    def _abandon(self, building: int) -> None:
        """Gives up the claim on a generation whose build failed (its heartbeat stops at once), so
        that the next attempt, here or elsewhere, drops it without waiting for it to go stale. Its
        number stays taken: a generation's tracking rows outlive its tables."""
        try:
            found = self.model.generations().get(building)
            if found is not None and found.state == "building":
                self.model.update_settings(building, {**found.settings, "heartbeat": ""})
        except Exception:  # noqa: BLE001 - the database may be away: the heartbeat goes stale instead
            log.warning("an unfinished rebuild's claim is left to go stale")

    def follow(self, stop: threading.Event, interval: float = 0.1, stalled_retry: float = 5.0) -> None:
        """Keeps projecting until `stop` is set; failures are logged and retried, never fatal."""
        while not stop.is_set():
            try:
                projected = self.catch_up()
            except (IntegrityError, PersistenceError) as error:
                # Another projector took this page, a rebuild swapped generations, or the database
                # is away: the state was read back; try again shortly.
                log.warning("projection paused: %s", type(error).__name__)
                projected = 0
                stop.wait(1.0)
            except Exception as error:  # noqa: BLE001
                # A bug met on some event: the thread stays alive and retries instead of dying, and
                # the fault is in /healthz and /metrics (recorded by catch_up). Only the error's
                # type and position are logged: its message may quote an event's personal data.
                where = f" at position {error.position}" if isinstance(error, EventNotProjected) else ""
                log.error("projection stalled%s by an unexpected %s; retrying", where, getattr(error, "error_type", type(error).__name__))
                projected = 0
                stop.wait(stalled_retry)
            if not projected:
                stop.wait(interval)

    def wait_for(self, position: int, timeout: float) -> bool:
        """True once the active generation has projected `position`."""
        deadline = time.monotonic() + timeout
        while self.tracked() < position:
            if time.monotonic() >= deadline:
                return False
            time.sleep(0.01)
        return True

    def rebuild(self, progress: Callable[[int], None] | None = None, workers: int = 1) -> tuple[int, int]:
        """Projects the whole log into fresh tables, then makes them current (blue/green).

        Reports keep reading the old generation until the switch, which is one transaction. With
        `workers` > 1 the cases are shared among that many processes (projections/partitioned.py).
        Returns (new generation, events projected).
        """
        generations = self.model.generations()
        new = max(generations, default=0) + 1
        for leftover, (state, _) in generations.items():
            if state == "building":  # an earlier rebuild that did not finish (or one this one takes over)
                self.model.drop_generation(leftover)
        settings = {**self._generation_settings(), "heartbeat": utc_text(datetime.now(UTC))}
        self.model.create_generation(new, settings, state="building")
        return self._build(new, settings, progress, workers)

    def _build(
        self, new: int, settings: dict[str, Any], progress: Callable[[int], None] | None, workers: int
    ) -> tuple[int, int]:
        """Fills the building generation `new`, then makes it current in place of the active one."""
        old = self.model.active_generation()
        progress = self._beating(new, settings, progress)
        projector: CaseStatusProjector | None = None
        if workers > 1:
            projected = partitioned.bulk_load(self.ledger, self.model, new, self.settings, workers, progress)
        else:
            projector = CaseStatusProjector(self.ledger, self.model, new, self.settings)
            projected = projector.bulk_load(progress)
        self.model.index_generation(new)
        self.model.analyze(new)
        self.model.activate(new)
        if projector is None:  # a shared load's state at the head: read back from what its workers wrote
            projector = CaseStatusProjector(self.ledger, self.model, new, self.settings)
        projected += projector.catch_up(progress)  # what arrived meanwhile
        if old is not None:
            self.model.drop_generation(old)
        return new, projected

    def _beating(
        self, generation: int, settings: dict[str, Any], progress: Callable[[int], None] | None
    ) -> Callable[[int], None]:
        """`progress`, which also renews the building generation's heartbeat now and then."""
        last = time.monotonic()

        def beat(position: int) -> None:
            nonlocal last
            if time.monotonic() - last >= HEARTBEAT.total_seconds():
                settings["heartbeat"] = utc_text(datetime.now(UTC))
                self.model.update_settings(generation, settings)
                last = time.monotonic()
            if progress:
                progress(position)

        return beat
