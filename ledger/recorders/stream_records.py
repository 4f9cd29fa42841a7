"""The recorders' reads of one stream (a case's, the settlement's) for its history: a page of it,
the stream as of a position and its version at a position. (The write path's reads of the
streams it decides on, select_streams and streams_written_after, are in base.py.)

A mixin of LedgerRecorder (ledger/recorders/base.py), whose SQL helpers it uses.
"""

from collections.abc import Mapping, Sequence
from typing import Any
from uuid import UUID

from eventsourcing.persistence import StoredEvent

from ledger.recorders.rows import BIGINT, StreamPage


class StreamQueries:
    """Mixin for a ledger recorder: reads of one stream, or a few, by stream id."""

    _rows: Any
    _logged: Any
    _stream_param: Any
    _LOGGED_COLUMNS_AND_TABLES: str
    convert_stored_id: Any

    def stream_page(self, stream_id: UUID, after: int, limit: int, topics: Sequence[str] = ()) -> StreamPage:
        """A page of the stream, in one statement (one snapshot, one round trip): the stream's last
        version, its events at versions after+1..after+limit, and every one of its events of
        `topics`, wherever they sit. A stream's versions run 1, 2, 3… without gaps, so the range is
        the page; and a range bounds what the database reads whatever plan it picks, where ORDER BY
        version LIMIT did not (PostgreSQL sorted every later event of a 7,000-event case for it)."""
        stream = self._stream_param(stream_id)
        template = (
            "SELECT 0 AS part, " + self._LOGGED_COLUMNS_AND_TABLES
            + " WHERE e.originator_id = %s AND e.originator_version > %s AND e.originator_version <= %s"
        )
        params: list[Any] = [stream, after, min(after + limit, BIGINT)]
        if topics:
            template += (
                " UNION ALL SELECT 1 AS part, " + self._LOGGED_COLUMNS_AND_TABLES
                + " WHERE e.originator_id = %s AND e.topic IN ({marks})"
            )
            params += [stream, *topics]
        # One more row whose version column holds the stream's last version (NULL: no such stream).
        template += (
            " UNION ALL SELECT 2 AS part, NULL, NULL, MAX(originator_version), NULL, NULL, NULL, NULL"
            " FROM {events} WHERE originator_id = %s ORDER BY part, originator_version"
        )
        params.append(stream)
        parts: dict[int, list[Mapping[str, Any]]] = {0: [], 1: [], 2: []}
        for row in self._rows(template, params, marks=len(topics)):
            parts[int(row["part"])].append(row)
        [head] = parts[2]
        return StreamPage(int(head["originator_version"] or 0), self._logged(parts[0]), self._logged(parts[1]))

    def stream_through(self, stream_id: UUID, position: int) -> list[StoredEvent]:
        """The stream's events among positions 1..position, in version order (a stream as of then).

        Selected by stream only, the positions filtered here: a stream is short, and a planner
        offered the position too may scan that index across the whole log."""
        rows = self._rows(
            "SELECT notification_id, originator_version, topic, state FROM {events}"
            " WHERE originator_id = %s ORDER BY originator_version",
            (self._stream_param(stream_id),),
        )
        return [
            StoredEvent(stream_id, int(row["originator_version"]), row["topic"], bytes(row["state"]))
            for row in rows
            if row["notification_id"] <= position
        ]

    def stream_version_at(self, stream_id: UUID, position: int) -> int:
        """The stream's version once the log held positions 1..position (0 if it had not begun)."""
        rows = self._rows(
            "SELECT MAX(originator_version) AS version FROM {events}"
            " WHERE originator_id = %s AND notification_id <= %s",
            (self._stream_param(stream_id), position),
        )
        return int(rows[0]["version"] or 0)
