"""Why the domain refuses a posting. Each names the envelope field at fault, for the caller."""


class Refusal(Exception):
    """A posting the rules do not allow; nothing of its batch is appended."""

    def __init__(self, message: str, field: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.field = field


class CaseConflict(Refusal):
    """The posting contradicts the case's recorded state (e.g. no SeparationIdentified yet)."""


class InvalidReference(Refusal):
    """The posting names a member or event the case does not have, or a value a correction breaks."""


class NotPermitted(Refusal):
    """The posting's organization may not do this (e.g. correct another organization's entry)."""
