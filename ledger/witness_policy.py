"""Witness policies (c2sp.org/tlog-policy): which logs a client accepts, which witnesses it knows,
and the quorum of their cosignatures a checkpoint needs before the client trusts it.

    log ledger.example/ms-l+8a3b10c2+AQ...          # the ledger's key (its origin is the name)
    witness aclu witness.aclu.example+1f2e3d4c+BA...
    witness monitor monitor.example/w+0a1b2c3d+BA...
    witness oig oig.example/w+99aa88bb+BA...
    group two-of-three 2 aclu monitor oig
    quorum two-of-three

`ledger verify DIR --policy FILE`, the bundle's verify.py and the witness's own configuration read
this format; `GET /v1/proofs/...?witness=…&quorum=k` builds the same policy from its parameters.
A refusal names the witnesses whose cosignature is missing and those whose cosignature is invalid.

Standard library only: copied into the bundle's verify.py.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ledger.cosignatures import Ed25519Check, check_cosignature, checkpoint_body, signed_by_log
from ledger.signed_notes import CheckpointError
from ledger.vkeys import COSIGNATURE_ED25519, NOTE_ED25519, VerifierKey, VerifierKeyError, parse_verifier_key

NONE = "none"
_MAX_ENTRIES = 256  # logs, witnesses and groups together: far above the spec's recommended 32 each


class PolicyError(ValueError):
    """The policy file is malformed (with its line), or a checkpoint does not satisfy it."""


@dataclass
class WitnessPolicy:
    logs: list[VerifierKey] = field(default_factory=list)
    witnesses: dict[str, VerifierKey] = field(default_factory=dict)
    groups: dict[str, tuple[int, list[str]]] = field(default_factory=dict)
    quorum: str | None = None
    urls: dict[str, str] = field(default_factory=dict)  # witness name -> its submission prefix

    def witnessed(self, name: str, valid: set[str]) -> bool:
        """Whether the witness or group `name` witnessed, given the witnesses whose cosignature is valid."""
        if name == NONE:
            return True
        if name in self.witnesses:
            return name in valid
        threshold, members = self.groups[name]
        return sum(self.witnessed(member, valid) for member in members) >= threshold


def _policy_key(text: str, key_type: int, number: int) -> VerifierKey:
    try:
        return parse_verifier_key(text, key_type)
    except VerifierKeyError as error:
        raise PolicyError(f"line {number}: {error}") from None


def parse_policy(text: str, need_quorum: bool = True) -> WitnessPolicy:
    """The policy `text` defines; a witness's configuration (only `log` lines) passes need_quorum=False."""
    policy = WitnessPolicy()
    defined: set[str] = set()
    member_of: dict[str, str] = {}  # each name a group lists: which group
    for number, raw in enumerate(text.split("\n"), start=1):
        if any(ord(c) < 0x20 and c != "\t" or ord(c) == 0x7F for c in raw):
            raise PolicyError(f"line {number}: control characters other than tab are not allowed")
        words = raw.replace("\t", " ").split()
        if not words or words[0].startswith("#"):
            continue
        keyword, args = words[0], words[1:]
        if len(policy.logs) + len(policy.witnesses) + len(policy.groups) >= _MAX_ENTRIES:
            raise PolicyError(f"line {number}: more than {_MAX_ENTRIES} logs, witnesses and groups")
        if keyword == "log" and len(args) in (1, 2):
            key = _policy_key(args[0], NOTE_ED25519, number)
            if any(log.public_key == key.public_key for log in policy.logs):
                raise PolicyError(f"line {number}: log {key.name} is listed twice")
            policy.logs.append(key)
        elif keyword == "witness" and len(args) in (2, 3):
            name, key = args[0], _policy_key(args[1], COSIGNATURE_ED25519, number)
            if name in defined or name == NONE:
                raise PolicyError(f"line {number}: the name {name!r} is already defined")
            if any(other.public_key == key.public_key for other in policy.witnesses.values()):
                raise PolicyError(f"line {number}: witness {name}'s key is listed twice")
            policy.witnesses[name] = key
            if len(args) == 3:
                policy.urls[name] = args[2]
            defined.add(name)
        elif keyword == "group" and len(args) >= 3:
            name, threshold, members = args[0], args[1], args[2:]
            if name in defined or name == NONE:
                raise PolicyError(f"line {number}: the name {name!r} is already defined")
            unknown = [m for m in members if m not in defined]
            if unknown:
                raise PolicyError(f"line {number}: group {name} names {', '.join(unknown)}, not defined on an earlier line")
            if len(set(members)) != len(members):
                raise PolicyError(f"line {number}: group {name} lists a member twice")
            # c2sp.org/tlog-policy: each name may be a group member at most once, so that no witness
            # counts towards the quorum twice (through two groups nesting it).
            again = [m for m in members if m in member_of]
            if again:
                raise PolicyError(
                    f"line {number}: group {name} lists {', '.join(again)}, already a member of group {member_of[again[0]]}"
                )
            member_of.update({m: name for m in members})
            k = {"all": len(members), "any": 1}.get(threshold)
            if k is None:
                if not threshold.isdigit() or threshold != str(int(threshold)) or not 1 <= int(threshold) <= len(members):
                    raise PolicyError(f"line {number}: group {name}'s threshold {threshold!r} is not all, any or 1..{len(members)}")
                k = int(threshold)
            policy.groups[name] = (k, members)
            defined.add(name)
        elif keyword == "quorum" and len(args) == 1:
            if policy.quorum is not None:
                raise PolicyError(f"line {number}: a second quorum line")
            if args[0] != NONE and args[0] not in defined:
                raise PolicyError(f"line {number}: quorum {args[0]} is not defined on an earlier line")
            policy.quorum = args[0]
        else:
            raise PolicyError(f"line {number}: expected log, witness, group or quorum, with their arguments")
    if need_quorum and policy.quorum is None:
        raise PolicyError("the policy has no quorum line")
    return policy


def quorum_of(witness_keys: list[VerifierKey], k: int) -> WitnessPolicy:
    """`k` of these witnesses (the policy a query string can say)."""
    policy = WitnessPolicy()
    for key in witness_keys:
        policy.witnesses[key.name] = key
    if k > 0:
        policy.groups["quorum"] = (k, list(policy.witnesses))
        policy.quorum = "quorum"
    else:
        policy.quorum = NONE
    return policy


def _signed(note: str, log: VerifierKey, verifies: Ed25519Check) -> bool:
    try:
        signed_by_log(note, log, verifies)
    except CheckpointError:
        return False
    return True


def enforce(policy: WitnessPolicy, note: str, verifies: Ed25519Check) -> list[str]:
    """The witnesses (by policy name) whose cosignature of `note` is valid, if they make the quorum
    and one of the policy's logs (if it lists any) signed it; PolicyError naming what is missing
    or invalid otherwise."""
    try:
        body, _ = checkpoint_body(note)
        logs = [log for log in policy.logs if log.name == body.origin]
        if policy.logs and not logs:
            raise PolicyError(f"the checkpoint's origin {body.origin} is not a log of the policy")
    except CheckpointError as error:
        raise PolicyError(f"the checkpoint is malformed: {error}") from None
    if logs and not any(_signed(note, log, verifies) for log in logs):  # a log's keys may have been rotated
        raise PolicyError(f"the checkpoint is not signed by a log of the policy ({body.origin})")
    checks = {name: check_cosignature(note, key, verifies) for name, key in policy.witnesses.items()}
    valid = {name for name, check in checks.items() if check.status == "valid"}
    assert policy.quorum is not None
    if policy.witnessed(policy.quorum, valid):
        return sorted(valid)
    missing = sorted(name for name, check in checks.items() if check.status == "missing")
    invalid = sorted(name for name, check in checks.items() if check.status == "invalid")
    parts = [f"valid: {', '.join(sorted(valid)) or 'none'}"]
    if missing:
        parts.append(f"missing: {', '.join(missing)}")
    if invalid:
        parts.append(f"invalid: {', '.join(invalid)}")
    raise PolicyError(f"the checkpoint at tree size {body.tree_size} lacks the policy's quorum of witnesses ({'; '.join(parts)})")
