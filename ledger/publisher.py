"""Publishing signed checkpoints on an interval, from a background thread of the API process.

Each tick signs the current tree head if the log has grown since the latest checkpoint (nothing
otherwise), off the append path: appends never wait for a signature. Several API processes may
each publish; the checkpoints table keeps one per tree size, and all of them are kept.
"""

import logging
import threading
from collections.abc import Iterator
from contextlib import contextmanager

from ledger.application import Ledger

logger = logging.getLogger(__name__)


def _publish_until(ledger: Ledger, interval_seconds: float, stop: threading.Event) -> None:
    while not stop.wait(interval_seconds):
        try:
            ledger.signed_heads.latest()  # the latest, or the grown tree head newly signed
        except Exception as error:  # noqa: BLE001 - the next tick retries; a dead publisher would not
            logger.warning("publishing a checkpoint failed (%s); retrying in %ss", type(error).__name__, interval_seconds)


@contextmanager
def publishing_checkpoints(ledger: Ledger, interval_seconds: float) -> Iterator[None]:
    """Publishes while the block runs (not at all if the interval is 0)."""
    if interval_seconds <= 0:
        yield
        return
    stop = threading.Event()
    thread = threading.Thread(
        target=_publish_until, args=(ledger, interval_seconds, stop), name="checkpoint-publisher", daemon=True
    )
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join()
