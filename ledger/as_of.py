"""Resolving an `AsOf` to the `Point` of the log it stands for: one rule for every door.

"As of T" covers what was recorded by T. For the answer to stay the same forever, no append may
later be recorded at or before T. recorded_at never decreases in commit order and is stamped under
the append lock (ledger/leaves.py), so:

- an instant before the last recorded_at is settled already: any later append is recorded after
  that last one, so after it;
- a later instant is settled only once the appends running at it have committed. The recorder
  takes the append lock and reads the ledger's clock under it (`settled_instant`): every append
  still running then has committed, and every later one stamps a later clock. Up to that instant
  a report may resolve; past it lies the future, refused, naming the latest point that can be
  reported. "Now", and today's date (whose end is still to come), resolve to that instant.

This rests on the ledger's clock not being set back: PostgreSQL's, one for every API process, or,
for an SQLite file, the host's. recorded_at itself never goes back (it is never stamped before the
last one), but an instant settled before a clock was set back could then be recorded at again.
"""

from domain.as_of import BEGINNING, AsOf, AsOfError, Point
from ledger.recorders.base import LedgerRecorder


class BeyondTheLog(AsOfError):
    """The as-of point lies past the latest point that can be reported (the future, or a
    position the log has not reached)."""

    def __init__(self, message: str, latest: Point) -> None:
        super().__init__(
            f"{message}; the latest point that can be reported is {latest.instant} (log position {latest.position})"
        )
        self.latest = latest


def resolve(store: LedgerRecorder, as_of: AsOf) -> Point:
    if as_of.position is not None:
        size = store.tree_size()
        if as_of.position > size:
            raise BeyondTheLog(f"as_of position {as_of.position} is beyond the log", _at(store, size))
        return _at(store, as_of.position)
    wanted = as_of.instant or as_of.end_of_day()
    if wanted is not None:
        head = store.head()
        if head.recorded_at is not None and wanted < head.recorded_at:
            return Point(store.position_recorded_by(wanted), wanted)
    latest = settled(store)
    if wanted is None or (as_of.day is not None and as_of.day == latest.day):
        return latest  # now, or today: its end is still to come
    if wanted > latest.instant:
        what = f"as_of date {as_of.day} is after today" if as_of.day is not None else f"as_of {wanted} is in the future"
        raise BeyondTheLog(what, latest)
    return Point(store.position_recorded_by(wanted), wanted)


def settled(store: LedgerRecorder) -> Point:
    """Now, as a point no append still running can fall at or before."""
    instant = store.settled_instant()
    return Point(store.position_recorded_by(instant), instant, now=True)


def _at(store: LedgerRecorder, position: int) -> Point:
    """A position stands for the instant it was recorded at (the log's beginning for 0)."""
    return Point(position, (store.recorded_at_of(position) if position else None) or BEGINNING)
