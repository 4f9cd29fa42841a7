"""Running the case-status projection: following the log, rebuilding it blue/green, its lag.

eventsourcing's ProjectionRunner subscribes to the application recorder, which SQLite cannot do;
this loop polls the log head instead (a cheap indexed read) on both backends, so one code path
serves the API's in-process projector and `ledger project --follow`. A failure to project is
recorded in the database (projections/projection_faults.py), where /healthz and /metrics read it
whichever process the projector runs in, and cleared once the projection gets past it.
"""

import logging
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime

from eventsourcing.persistence import IntegrityError, PersistenceError

from domain.values import utc_text
from ledger.application import Ledger
from ledger.recorders.base import create_alongside_others
from projections import partitioned
from projections.case_status import CaseStatusProjector, Settings
from projections.projection_faults import EventNotProjected, ProjectionFault
from projections.store import open_read_model

log = logging.getLogger(__name__)


class Projection:
    """The case-status projection of one ledger: whichever generation is active."""

    def __init__(self, ledger: Ledger, settings: Settings | None = None) -> None:
        self.ledger = ledger
        self.settings = settings or Settings()
        self.model = open_read_model(ledger)
        self._projector: CaseStatusProjector | None = None
        self._lock = threading.Lock()
        self._fault_recorded: bool | None = None  # None: not known (another process may have left one)
        if self.model.active_generation() is None:
            create_alongside_others(self._create_first_generation)

    def _create_first_generation(self) -> None:
        try:
            self.model.create_generation(1, self.settings.as_json(), state="active")
        except IntegrityError:
            pass  # another process created it first

    def generation(self) -> int:
        active = self.model.active_generation()
        assert active is not None, "the projection has no active generation"
        return active

    def late_report_days(self) -> int:
        """The threshold the active generation was built with (a change needs `ledger rebuild`)."""
        settings = self.model.generations()[self.generation()][1]
        return int(settings.get("late_report_days", self.settings.late_report_days))

    def tracked(self) -> int:
        return self.model.tracked(self.generation())

    def lag(self) -> int:
        return max(0, self.ledger.store.tree_size() - self.tracked())

    def _active_projector(self) -> CaseStatusProjector:
        generation = self.generation()
        if self._projector is None or self._projector.generation != generation:
            settings = self.model.generations()[generation][1]
            self._projector = CaseStatusProjector(
                self.ledger, self.model, generation, Settings(**{**self.settings.__dict__, **settings})
            )
        return self._projector

    def catch_up(self, progress: Callable[[int], None] | None = None) -> int:
        """Projects what the log holds now into the active generation. A failure is recorded as the
        generation's fault before it is raised; a success clears the fault."""
        with self._lock:
            projector = None
            try:
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
        old = self.model.active_generation()
        new = max(generations, default=0) + 1
        for leftover, (state, _) in generations.items():
            if state == "building":  # an earlier rebuild that did not finish
                self.model.drop_generation(leftover)
                self.model.clear_fault(leftover)
        self.model.create_generation(new, self.settings.as_json(), state="building")
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
            self.model.clear_fault(old)
        return new, projected
