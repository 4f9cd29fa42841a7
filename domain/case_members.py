"""Who a case's members are, kept up to date entry by entry, and how many a case may have.

A case's members are what folding its effective member entries (SeparationIdentified's children
and parents, MemberAdded, MemberRemoved) in version order gives. Every posting's checks ask who
they are; reading them off every entry again after each MemberAdded made a post of 1,000
MemberAdded cost more with each post to the same case (0.8 s, 2.3 s, ... 11.9 s: issue 15). So
each member id keeps its mentions in order, and an entry recorded, corrected or retracted changes
only the ids it names: its cost is the mentions of those ids, however long the case.

For one id the fold ends with its last mention: present as that mention says if it adds the id,
absent if it removes it. Its place in the members' order (the case view lists them in it) is where
the fold last inserted it: its first add after its last removal.
"""

from bisect import bisect_left, insort
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from domain.vocabulary import MemberRole

# The most members a case may have. A family in the class is a parent or two, their children and
# perhaps a few qualifying additional family members: tens at the very most (one
# SeparationIdentified lists at most 50 children and 20 parents). The bound is not that size but
# the most one case may hold while every posting to it still costs the same: each posting is
# checked against the members, the case view lists them all, and a change to what every child's
# row reads rewrites one row per child. 2,000 is twice the family bench/load.py grows (1,000
# members in 10 posts, each timed) and far past any real one; a case view of it is ~200 KB.
MAX_CASE_MEMBERS = 2_000

MEMBER_ENTRIES = frozenset({"SeparationIdentified", "MemberAdded", "MemberRemoved"})


@dataclass(frozen=True)
class Member:
    member_id: str
    role: str
    birth_year: int | None = None
    name: str | None = None


Order = tuple[int, int]  # (the entry's version, the mention's place within the entry)
Mention = tuple[int, int, Member | None]  # the order, and the member it adds (None: it removes the id)


def mentions_of(entry_type: str, version: int, data: Mapping[str, Any]) -> list[tuple[str, Mention]]:
    """The member ids an entry names, in the order the fold reads them, with what it says of each."""
    if entry_type == "SeparationIdentified":
        named = [
            Member(child["member_id"], MemberRole.CHILD, child.get("birth_year"), child.get("name"))
            for child in data.get("children", [])
        ]
        named += [Member(parent["member_id"], MemberRole.PARENT, None, parent.get("name")) for parent in data.get("parents", [])]
        return [(member.member_id, (version, index, member)) for index, member in enumerate(named)]
    if entry_type == "MemberAdded":
        member = Member(data["member_id"], data["role"], data.get("birth_year"), data.get("name"))
        return [(member.member_id, (version, 0, member))]
    if entry_type == "MemberRemoved":
        return [(data["member_id"], (version, 0, None))]
    return []


def _order(mention: Mention) -> Order:
    return mention[0], mention[1]


class CaseMembers:
    """The members the case's effective member entries give, updated as entries are recorded,
    corrected (the entry's old reading withdrawn, its new one mentioned) or retracted."""

    def __init__(self) -> None:
        self._mentions: dict[str, list[Mention]] = {}  # by member id, in order
        self._present: dict[str, tuple[Order, Member]] = {}
        self._children = 0

    def mention(self, entry_type: str, version: int, data: Mapping[str, Any]) -> None:
        """An effective entry, as it now reads, names its members."""
        for member_id, mention in mentions_of(entry_type, version, data):
            insort(self._mentions.setdefault(member_id, []), mention, key=_order)
            self._settle(member_id)

    def withdraw(self, entry_type: str, version: int, data: Mapping[str, Any]) -> None:
        """An entry no longer reads as `data` (corrected) or no longer counts (retracted)."""
        for member_id, mention in mentions_of(entry_type, version, data):
            mentions = self._mentions[member_id]
            where = bisect_left(mentions, _order(mention), key=_order)
            del mentions[where]
            if not mentions:
                del self._mentions[member_id]
            self._settle(member_id)

    def count_if(self, entry_type: str, version: int, data: Mapping[str, Any], now: Mapping[str, Any] | None) -> int:
        """How many members there would be if the entry read `now` instead (None: retracted)."""
        self.withdraw(entry_type, version, data)
        if now is not None:
            self.mention(entry_type, version, now)
        try:
            return len(self._present)
        finally:
            if now is not None:
                self.withdraw(entry_type, version, now)
            self.mention(entry_type, version, data)

    def _settle(self, member_id: str) -> None:
        mentions = self._mentions.get(member_id)
        before = self._present.pop(member_id, None)
        if before is not None and before[1].role == MemberRole.CHILD:
            self._children -= 1
        if not mentions or mentions[-1][2] is None:
            return
        start = len(mentions) - 1
        while start > 0 and mentions[start - 1][2] is not None:  # back to the first add after the last removal
            start -= 1
        member = mentions[-1][2]
        self._present[member_id] = (_order(mentions[start]), member)
        if member.role == MemberRole.CHILD:
            self._children += 1

    # --- reading ---------------------------------------------------------------------------------

    def get(self, member_id: str) -> Member | None:
        found = self._present.get(member_id)
        return None if found is None else found[1]

    def __contains__(self, member_id: object) -> bool:
        return member_id in self._present

    def __len__(self) -> int:
        return len(self._present)

    @property
    def has_children(self) -> bool:
        return self._children > 0

    def in_order(self) -> dict[str, Member]:
        """The members in the order the fold inserted them."""
        ordered = sorted(self._present.items(), key=lambda item: item[1][0])
        return {member_id: member for member_id, (_, member) in ordered}
