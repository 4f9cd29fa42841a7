"""The rules a new posting must meet against the case it is posted to: the members it names
exist (in the role it says), the case stays within MAX_CASE_MEMBERS, and an amendment names an
entry its own organization posted, which it may still amend, and leaves a valid entry behind.

A mixin of FamilyCase (domain/family_case.py), which holds the entries and members they read.
"""

from collections.abc import Callable
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from pydantic import ValidationError

from domain.case_entry import Entry
from domain.case_members import MAX_CASE_MEMBERS, MEMBER_ENTRIES, CaseMembers
from domain.catalog import AMENDMENTS, CASE_EVENTS, stored_data
from domain.envelope import Posting
from domain.errors import CaseConflict, InvalidReference, NotPermitted
from domain.vocabulary import MemberRole

# Fields of a posting's data that name members of the case, by event type.
_MEMBER_LISTS = {
    "ParoleRequested": "member_ids",
    "ServiceReferred": "member_ids",
    "ServiceStarted": "member_ids",
    "ServiceEnded": "member_ids",
    "WorkAuthorizationDecided": "member_ids",
    "AsylumApplicationFiled": "member_ids",
}


class PostingChecks:
    """Each check raises a refusal naming the field at fault, or returns: the posting may stand."""

    if TYPE_CHECKING:  # FamilyCase's
        case_id: str
        entries: dict[str, Entry]
        _members: CaseMembers

    def _check_members(self, ids: list[str], field: str, role: str | None = None, *, listed: bool = True) -> None:
        for i, member_id in enumerate(ids):
            member = self._members.get(member_id)
            if member is None or (role is not None and member.role != role):
                what = f"a {role}" if role else "a member"
                where = f"data.{field}[{i}]" if listed else f"data.{field}"
                raise InvalidReference(f"{member_id} is not {what} of case {self.case_id}", where)

    def _check_member_added(self, posting: Posting, _: str) -> None:
        if posting.data["member_id"] in self._members:
            raise InvalidReference(
                f"{posting.data['member_id']} is already a member of case {self.case_id}", "data.member_id"
            )
        if len(self._members) >= MAX_CASE_MEMBERS:
            raise self._full("data.member_id")

    def _check_member_removed(self, posting: Posting, _: str) -> None:
        self._check_members([posting.data["member_id"]], "member_id", listed=False)

    def _check_parent_located(self, posting: Posting, _: str) -> None:
        if "member_id" in posting.data:
            self._check_members([posting.data["member_id"]], "member_id", MemberRole.PARENT, listed=False)

    def _check_reunified(self, posting: Posting, _: str) -> None:
        self._check_members(posting.data.get("children", []), "children", MemberRole.CHILD)
        if not self._members.has_children:
            raise CaseConflict(f"case {self.case_id} has no children to reunify", "data.children")

    def _check_member_list(self, posting: Posting, _: str) -> None:
        name = _MEMBER_LISTS[posting.type]
        self._check_members(posting.data.get(name, []), name)

    def _amended_entry(self, posting: Posting, organization: str) -> Entry:
        target = self.entries.get(posting.data["event_id"])
        if target is None:
            raise InvalidReference(
                f"case {self.case_id} has no event {posting.data['event_id']}", "data.event_id"
            )
        if target.organization != organization:
            raise NotPermitted(
                f"event {target.event_id} was posted by {target.organization}; only they may amend it",
                "data.event_id",
            )
        if target.type in AMENDMENTS or target.type == "CasesMerged":
            raise CaseConflict(f"{target.type} events cannot be amended (event {target.event_id} is one)", "data.event_id")
        if target.retracted:
            raise CaseConflict(f"event {target.event_id} was retracted and cannot be amended", "data.event_id")
        return target

    def _checked_correction(self, posting: Posting, organization: str) -> Posting:
        """The correction, its changes in the catalog's stored form, if the corrected entry would be valid."""
        target = self._amended_entry(posting, organization)
        changes = posting.data.get("changes", {})
        try:
            # Validated as recorded: the entry's personal values are sealed (the changes are not yet).
            corrected = stored_data(
                CASE_EVENTS[target.type].model_validate({**target.effective_data, **changes}, context={"stored": True})
            )
        except ValidationError as error:
            first = error.errors()[0]
            where = ".".join(str(part) for part in first["loc"])
            raise InvalidReference(
                f"the corrected {target.type} would be invalid: {first['msg']}", f"data.changes.{where}"
            ) from None
        if reference_check := _REFERENCE_CHECKS.get(target.type):
            try:
                reference_check(self, replace(posting, type=target.type, data=corrected), organization)
            except InvalidReference as refusal:
                raise InvalidReference(refusal.message, refusal.field.replace("data.", "data.changes.", 1)) from None
        if target.type in MEMBER_ENTRIES:
            named = next((key for key in ("member_id", "children", "parents") if key in changes), None)
            self._check_bound(target, corrected, f"data.changes.{named}" if named else "data.changes")
        canonical = {key: corrected.get(key) for key in changes}  # None: an optional field cleared
        return replace(posting, data={**posting.data, "changes": canonical})

    def _check_retraction(self, posting: Posting, organization: str) -> None:
        target = self._amended_entry(posting, organization)
        if target.type in MEMBER_ENTRIES:  # retracting a MemberRemoved brings its member back
            self._check_bound(target, None, "data.event_id")

    def _check_bound(self, target: Entry, now: dict[str, Any] | None, field: str) -> None:
        """An amendment may not take the case past MAX_CASE_MEMBERS (nor further past it, should a
        log written under a larger bound hold more)."""
        after = self._members.count_if(target.type, target.version, target.effective_data, now)
        if after > MAX_CASE_MEMBERS and after > len(self._members):
            raise self._full(field)

    def _full(self, field: str) -> CaseConflict:
        return CaseConflict(
            f"case {self.case_id} would have more than {MAX_CASE_MEMBERS} members, the most a case may have; "
            "remove members no longer part of the family first",
            field,
        )


# Checks that a posting's references (members, children) exist; corrections are held to them too.
_REFERENCE_CHECKS: dict[str, Callable[["PostingChecks", Posting, str], None]] = {
    "ParentLocated": PostingChecks._check_parent_located,
    "FamilyReunified": PostingChecks._check_reunified,
    **{event_type: PostingChecks._check_member_list for event_type in _MEMBER_LISTS},
}
CHECKS: dict[str, Callable[["PostingChecks", Posting, str], None]] = {
    **_REFERENCE_CHECKS,
    "MemberAdded": PostingChecks._check_member_added,
    "MemberRemoved": PostingChecks._check_member_removed,
    "EntryRetracted": PostingChecks._check_retraction,
}
