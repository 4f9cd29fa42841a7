"""Offline verification of an exported bundle: the bundle's format and the checks an auditor runs.

Standard library only. `ledger verify DIR` calls verify_bundle() from here, and every bundle
ships the same code as one file, verify.py, generated from this module and the standard-library
modules it uses (see VERIFIER_MODULES in ledger/export.py), so `python3 verify.py DIR` runs
on a bare Python 3.9+ without installing anything.

It trusts nothing in the bundle but the signature key (which the auditor should pin with
--public-key): it recomputes every leaf from the events, the Merkle root at every signed
checkpoint, each checkpoint's Ed25519 signature, and each checkpoint's consistency proof from the
one before. The first problem found is reported with the position or checkpoint it concerns.
"""

from __future__ import annotations

import argparse
import base64
import os
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from ledger.bundle_checkpoints import read_checkpoints, read_trusted
from ledger.bundle_events import verify_events
from ledger.bundle_format import Tampered, read_log
from ledger.bundle_manifest import check_manifest, digests_in_background
from ledger.bundle_witnesses import witnessed_bundle
from ledger.signed_notes import key_id
from ledger.vkeys import NOTE_ED25519, VerifierKeyError, parse_verifier_key
from ledger.witness_policy import PolicyError


@dataclass(frozen=True)
class BundleReport:
    origin: str
    public_key: bytes
    key_pinned: bool
    events: int
    checkpoints: int
    trusted_checkpoints: int
    witnesses: list[str] | None = None  # with a policy: those whose cosignature of the last checkpoint is valid

    @property
    def key_id(self) -> str:
        return key_id(self.origin, self.public_key).hex()



def verify_bundle(
    directory: str | os.PathLike[str],
    public_key: bytes | None = None,
    trusted_notes: Sequence[str] = (),
    progress: Callable[[int], None] | None = None,
    policy: str | None = None,
) -> BundleReport:
    """Raises Tampered naming the first problem; `public_key` pins the key the bundle must be signed by;
    `policy` (c2sp.org/tlog-policy text) demands its quorum of witnesses (PolicyError if unmet)."""
    directory = os.fspath(directory)
    origin, bundle_key, tree_size = read_log(directory)
    if public_key is not None and public_key != bundle_key:
        raise Tampered(
            f"the bundle is signed by key {key_id(origin, bundle_key).hex()}, not by the key you pinned "
            f"({key_id(origin, public_key).hex()})"
        )
    heads = read_checkpoints(directory, origin, bundle_key, tree_size)
    trusted = read_trusted(trusted_notes, origin, bundle_key)
    for head in trusted:
        if head.tree_size > tree_size:
            raise Tampered(
                f"{head.source} is beyond the bundle's {tree_size} events: the bundle is truncated or stale",
                checkpoint=head.tree_size,
            )
    digests = digests_in_background(directory)
    events = verify_events(directory, tree_size, heads + trusted, progress)
    check_manifest(directory, digests())
    witnesses = None if policy is None else witnessed_bundle(directory, policy, origin, bundle_key, tree_size)
    return BundleReport(origin, bundle_key, public_key is not None, events, len(heads), len(trusted), witnesses)


def pinned_key(text: str) -> bytes:
    """The raw Ed25519 key given as base64 (32 bytes), or as the verifier key `ledger checkpoint
    --show-key` prints (<origin>+<key ID>+<key>); ValueError if it is neither."""
    try:
        key = base64.b64decode(text, validate=True)
    except ValueError:
        key = None
    if (key is None or len(key) != 32) and text.count("+") >= 2:
        try:
            return parse_verifier_key(text, NOTE_ED25519).public_key
        except VerifierKeyError as error:
            raise ValueError(f"--public-key: {error}") from None
    if key is None:
        raise ValueError("--public-key: not base64 (give the base64 Ed25519 key the ledger publishes, or its verifier key)")
    if len(key) != 32:
        raise ValueError(f"--public-key: {len(key)} bytes of base64, not an Ed25519 key (32 bytes)")
    return key


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description="Verify an exported ledger bundle offline: every leaf, every signed checkpoint, "
        "their signatures and their consistency.",
    )
    parser.add_argument(
        "directory", nargs="?", default=os.path.dirname(os.path.abspath(__file__)),
        help="the bundle (default: the directory this file is in)",
    )
    parser.add_argument("--public-key", help="base64 Ed25519 key the ledger publishes, or its verifier key; pins the signer")
    parser.add_argument(
        "--checkpoint", action="append", default=[], metavar="NOTE_FILE",
        help="a signed checkpoint note you saved earlier; the bundle must agree with it (repeatable)",
    )
    parser.add_argument("--policy", metavar="POLICY_FILE", help="a witness policy (c2sp.org/tlog-policy) the last checkpoint must meet")
    args = parser.parse_args(argv)
    try:
        policy = None
        if args.policy is not None:
            with open(args.policy, encoding="utf-8") as file:
                policy = file.read()
        pinned = None if args.public_key is None else pinned_key(args.public_key)
        notes = []
        for path in args.checkpoint:
            with open(path, encoding="utf-8") as file:
                notes.append(file.read())
    except (ValueError, OSError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    tty = sys.stderr.isatty()

    def progress(done: int) -> None:
        if tty:
            print(f"\rverified {done} events", end="", file=sys.stderr, flush=True)

    try:
        report = verify_bundle(args.directory, pinned, notes, progress, policy)
    except Tampered as problem:
        if tty:
            print(file=sys.stderr)
        print(problem.summary(), file=sys.stderr)
        return 1
    except PolicyError as problem:
        print(f"NOT WITNESSED as the policy demands: {problem}", file=sys.stderr)
        return 1
    except (OSError, ValueError, RecursionError) as unreadable:  # anything a hostile file can make Python raise
        print(f"NOT VERIFIED: the bundle cannot be read as a ledger bundle ({type(unreadable).__name__}: {unreadable})", file=sys.stderr)
        return 1
    if tty:
        print(file=sys.stderr)
    print(describe(report))
    return 0


def describe(report: BundleReport) -> str:
    trusted = f", and agree with your {report.trusted_checkpoints} saved checkpoint(s)" if report.trusted_checkpoints else ""
    key = base64.b64encode(report.public_key).decode()
    pin = (
        "the key you pinned"
        if report.key_pinned
        else "the key in the bundle: compare it with the key the ledger publishes, or pin it with --public-key"
    )
    witnessed = "" if report.witnesses is None else f"\nits last checkpoint is cosigned by the policy's quorum: {', '.join(report.witnesses) or 'none needed'}"
    return (
        f"verified {report.events} events and {report.checkpoints} signed checkpoints: every leaf, root, signature "
        f"and consistency proof checks out{trusted}\n"
        f"signed by {report.origin} key {key} (key ID {report.key_id}), {pin}{witnessed}"
    )
