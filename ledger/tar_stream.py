"""The export bundle as a streamed .tar.gz: the same files as `ledger export` writes, one folder.

A tar header states its file's size before the file, and the size of events.jsonl is known only
once it is written. Holding the file (in memory, or in a temporary file: the container's /tmp is
memory) is what a stream must not do, so the bundle is produced twice: a first pass reads the log
a page at a time and keeps only each file's size and SHA-256 (which the manifest needs too), and
the second produces the same bytes again (an export of one snapshot is deterministic: positions
1..tree_size never change) behind their headers. The log is read twice; memory stays bounded. A
second pass that differs from the first (the database changed under the export: tampering)
stops the stream, and the archive, cut short, does not open.

Deterministic like the bundle: entries dated 1970-01-01, owned by 0:0, gzip without a name or date.
"""

import hashlib
import tarfile
import zlib
from collections.abc import Iterator

from domain.errors import ExportError
from ledger.application import Ledger
from ledger.bundle_format import MANIFEST_FILE, VERIFIER_FILE
from ledger.export import Snapshot, _manifest, _members

BLOCK = 512
_GZIP = 16 + zlib.MAX_WBITS  # zlib's gzip wrapper: no file name, mtime 0


class ExportChanged(ExportError):
    """The second pass over the log did not produce the bytes of the first."""


def _header(path: str, size: int, mode: int) -> bytes:
    info = tarfile.TarInfo(path)
    info.size, info.mode, info.mtime = size, mode, 0
    info.uname = info.gname = ""
    return info.tobuf(format=tarfile.PAX_FORMAT)  # PAX: sizes beyond tar's 8 GiB are written too


def _padding(size: int) -> bytes:
    return b"\0" * (-size % BLOCK)


def tar_entries(ledger: Ledger, snap: Snapshot) -> Iterator[bytes]:
    """The uncompressed tar, a chunk at a time."""
    sizes: dict[str, int] = {}
    digests: dict[str, str] = {}
    for name, chunks in _members(ledger, snap, None):  # the first pass: sizes and digests only
        digest, size = hashlib.sha256(), 0
        for chunk in chunks:
            digest.update(chunk)
            size += len(chunk)
        sizes[name], digests[name] = size, digest.hexdigest()
    for name, chunks in _members(ledger, snap, None):
        yield _header(f"{snap.name}/{name}", sizes[name], 0o755 if name == VERIFIER_FILE else 0o644)
        digest, size = hashlib.sha256(), 0
        for chunk in chunks:
            digest.update(chunk)
            size += len(chunk)
            if size > sizes[name]:
                raise ExportChanged(f"{name} grew between the export's two passes over the log")
            yield chunk
        if (size, digest.hexdigest()) != (sizes[name], digests[name]):
            raise ExportChanged(f"{name} changed between the export's two passes over the log")
        yield _padding(size)
    manifest = _manifest(digests)
    yield _header(f"{snap.name}/{MANIFEST_FILE}", len(manifest), 0o644) + manifest + _padding(len(manifest))
    yield b"\0" * (2 * BLOCK)  # the end of the archive


def tar_gz_stream(ledger: Ledger, snap: Snapshot, level: int = 6) -> Iterator[bytes]:
    """The bundle as a .tar.gz, produced as it is read (bounded memory)."""
    compressor = zlib.compressobj(level, zlib.DEFLATED, _GZIP)
    for chunk in tar_entries(ledger, snap):
        if compressed := compressor.compress(chunk):
            yield compressed
    yield compressor.flush()
