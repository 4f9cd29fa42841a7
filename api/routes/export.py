"""GET /v1/export: the auditors' bundle of the whole log, streamed as a zip."""


from fastapi import APIRouter
from fastapi.responses import StreamingResponse

from api.deps import AuditorDep, LedgerDep
from api.schemas import PROBLEMS
from ledger import export

router = APIRouter(prefix="/v1", tags=["audit"])

_ZIP = {
    200: {
        "description": "A zip holding one folder, `ledger-bundle-<tree size>/`, with the bundle's files.",
        "content": {"application/zip": {"schema": {"type": "string", "format": "binary"}}},
    }
}


@router.get("/export", response_class=StreamingResponse, responses={**_ZIP, **PROBLEMS})
def get_export(
    ledger: LedgerDep,
    who: AuditorDep,
) -> StreamingResponse:
    """The whole log as a bundle that verifies offline, streamed (the log is read a page at a time).

    The zip holds `ledger-bundle-N/` with:
    - `events.jsonl`: one event per line in position order, with its receipt (`event_id`, `case_id`,
      `type`, `version`, `position`, `recorded_at`, `leaf_hash`), `stream_id`, and last `payload`:
      the stored event embedded verbatim, so the exact bytes the leaf commits to are the text
      between `"payload":` and the line's final `}` (`payload_base64` if they cannot be embedded);
    - `leaves.txt`: line P is the hex Merkle leaf hash of position P;
    - `checkpoints.jsonl`: every checkpoint published so far with its C2SP signed note and an
      RFC 6962 consistency proof from the previous one;
    - `log.json` (origin, public key, tree size), `README.md` for the auditor, `MANIFEST.sha256`;
    - `verify.py`: a standard-library-only verifier, `python3 verify.py DIR` (same as `ledger verify DIR`).

    The current tree head is signed first if no checkpoint covers it, so every exported event is
    under a signature. The same log exports the same bytes. If the stream breaks off, the zip has
    no central directory and will not open: fetch it again.
    """
    snap = export.snapshot(ledger)
    ledger.access_log.record(who, "export", None, f"bundle of tree size {snap.tree_size}")
    return StreamingResponse(
        export.zip_stream(ledger, snap),
        media_type="application/zip",
        headers={"Content-Disposition": f'attachment; filename="{snap.name}.zip"'},
    )
