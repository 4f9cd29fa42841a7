"""A rebuild's bulk load shared by several processes, one per core: each projects its own cases.

A case's rows depend on its own events and the settlement's terms only, so the cases can be split
among processes (by stream id), each reading the whole log, projecting its cases' events and every
settlement event, and writing its rows into the new generation's tables. What they cannot split
is the running sum of every row's cells that snapshots keep: each worker hands on the change in its
own cells at positions they all agree on (every page end where a snapshot is due, and after each
settlement event), and this process adds the changes up and writes the snapshots. The tracking
position is written last, once every worker has finished: until then the generation is unfinished.
"""

import logging
import multiprocessing
import os
import queue
from collections import Counter
from collections.abc import Callable
from typing import Any

from domain.errors import ProjectionFailed
from ledger.application import Ledger
from projections.case_rows import Cell
from projections.case_status import CaseStatusProjector
from projections.projection_settings import Partition, ProjectionSettings
from projections.projection_faults import EventNotProjected
from projections.read_model import ReadModel, read_model
from projections.row_format import PageWrite

log = logging.getLogger(__name__)

POLL_SECONDS = 1.0
MAX_WORKERS = 4  # each worker reads the whole log: past a few, that reading is most of the work
PARALLEL_FROM = 50_000  # events; below this, starting the processes costs more than they save


def default_workers(events: int) -> int:
    return 1 if events < PARALLEL_FROM else max(1, min(os.cpu_count() or 1, MAX_WORKERS))


class WorkerFailed(ProjectionFailed):
    """A worker of a shared bulk load failed: the generation it was filling is unfinished."""


def bulk_load(
    ledger: Ledger,
    model: ReadModel,
    generation: int,
    settings: ProjectionSettings,
    workers: int,
    progress: Callable[[int], None] | None = None,
) -> int:
    """Projects the log up to its current head into the fresh `generation` with `workers`
    processes; the number of events projected. Raises WorkerFailed (the generation unfinished)."""
    head = ledger.reader.tree_size()
    context = multiprocessing.get_context("spawn")  # a fork would share the parent's connections
    # Bounded: a worker ahead of the others waits rather than piling up its cells here.
    outboxes = [context.Queue(maxsize=16) for _ in range(workers)]
    # Each worker is an interpreter of its own, with its own share of a settlement event's work: with
    # half of a 1/workers share of the cache, they all stay within one process's memory (measured
    # at a million events: bench/reports.py).
    share = ProjectionSettings(**{**settings.__dict__, "cached_cases": max(1, settings.cached_cases // (2 * workers))})
    processes = [
        context.Process(
            target=_work,
            args=(ledger.database_url, generation, share, Partition(index, workers), head, outboxes[index]),
            name=f"rebuild-worker-{index}",
            daemon=True,
        )
        for index in range(workers)
    ]
    for process in processes:
        process.start()
    try:
        summed: Counter[Cell] = Counter()
        while True:
            messages = [_next(outbox, process) for outbox, process in zip(outboxes, processes, strict=True)]
            if all(message[0] == "done" for message in messages):
                break
            positions = {message[1] for message in messages if message[0] == "cells"}
            if len(positions) != 1 or any(message[0] != "cells" for message in messages):
                raise WorkerFailed(f"the rebuild's workers fell out of step: {sorted(positions)}")
            position = positions.pop()
            for message in messages:
                summed.update(message[2])  # update adds (and subtracts): `+` would drop what goes to 0
            model.write_snapshot(generation, position, summed)
            if progress:
                progress(position)
        # The tracking position last: the generation is complete up to the head.
        model.write_page(generation, PageWrite(head, snapshot=summed))
        for process in processes:
            process.join()
    finally:
        for process in processes:
            if process.is_alive():
                process.terminate()
            process.join()
        for outbox in outboxes:
            outbox.close()
    return head


def _next(outbox: Any, process: Any) -> tuple[Any, ...]:
    while True:
        try:
            message: tuple[Any, ...] = outbox.get(timeout=POLL_SECONDS)
        except queue.Empty:
            if not process.is_alive():
                raise WorkerFailed(f"{process.name} ended (exit code {process.exitcode}) before its share was done") from None
            continue
        if message[0] == "failed":
            raise WorkerFailed(f"{process.name} failed: {message[1]}")
        return message


def _work(database_url: str, generation: int, settings: ProjectionSettings, partition: Partition, head: int, outbox: Any) -> None:
    """One worker: its partition's cases projected into the generation, its cells handed on."""
    try:
        with Ledger(database_url, create_tables=False) as ledger:  # the rebuild's own process made them
            model = read_model(ledger)

            def hand_on(position: int, cells: Counter[Cell]) -> None:
                outbox.put(("cells", position, cells))

            CaseStatusProjector(ledger, model, generation, settings, partition=(partition, hand_on)).bulk_load(until=head)
        outbox.put(("done",))
    except BaseException as error:  # noqa: BLE001
        # Only the error's type (and the event's position): its message may quote an event's personal data.
        told = str(error) if isinstance(error, EventNotProjected) else type(error).__name__
        log.error("rebuild worker %s stopped: %s", partition.index, told)
        outbox.put(("failed", told))
