"""Configuration from the environment. The only module that reads it."""

from functools import cached_property
from pathlib import Path
from typing import Literal

from pydantic import Field, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from domain.errors import ConfigurationError
from ledger.checkpoints import Signer, load_or_create_signing_key
from ledger.personal_data import load_or_create_master_key
from ledger.signed_notes import CheckpointError, check_origin
from ledger.witnessing import WitnessEndpoint, parse_witnesses
from projections.projection_settings import ProjectionSettings


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="LEDGER_", extra="ignore")

    database_url: str = Field(
        default="sqlite:///var/ledger.db",
        description="sqlite:///path/to/file.db or postgresql://user:password@host:port/dbname",
    )
    signing_key_file: Path = Field(
        default=Path("var/keys/signing-key.pem"),
        description="Ed25519 private key (PEM) that signs checkpoints; created with mode 0600 if missing.",
    )
    encryption_key_file: Path = Field(
        default=Path("var/keys/encryption-key"),
        description="Master key (base64, 32 bytes) that wraps each case's personal-data key; created with mode 0600 if missing.",
    )
    origin: str = Field(
        default="ledger.local/ms-l",
        description="The log's name in its checkpoints (a schema-less URL, per C2SP).",
    )

    @field_validator("origin")
    @classmethod
    def _a_key_name(cls, origin: str) -> str:
        """Refused with the other settings (exit 2), before a key file or database is made."""
        try:
            check_origin(origin)
        except CheckpointError as error:
            raise ValueError(str(error).removeprefix(f"invalid origin {origin!r}: ")) from None
        return origin
    max_body_bytes: int = Field(default=4 * 1024 * 1024, description="Larger request bodies get 413.")
    request_head_timeout_seconds: float = Field(
        default=10,
        gt=0,
        le=300,
        description="A request's head (its line and headers) must arrive within this many seconds of the connection, or of the previous answer on it (then 408 and the connection is closed).",
    )
    request_body_timeout_seconds: float = Field(
        default=30,
        gt=0,
        le=3600,
        description="A request's body must arrive within this many seconds of its head (then 408, nothing appended, the connection closed): 30 s lets the largest body through at ~140 KB/s.",
    )
    max_connections: int = Field(
        default=1000,
        ge=1,
        le=100_000,
        description="Connections served at once; a request on one beyond them gets 503 with Retry-After. The server's open-file limit is raised to fit (or it will not start).",
    )
    projector: Literal["in-process", "external"] = Field(
        default="in-process",
        description="in-process: the API keeps the reports' projection up to date; external: `ledger project --follow` does.",
    )
    late_report_days: int = Field(
        default=30, ge=1, description="An event recorded more than this many days after it occurred is a late report."
    )
    report_wait_seconds: float = Field(
        default=5.0, ge=0, description="How long a report waits for the projection to reach its as-of point (then 503)."
    )
    checkpoint_interval_seconds: float = Field(
        default=3600,
        ge=0,
        description="The API signs a checkpoint this often if the log has grown (0: only on demand).",
    )
    witnesses: str = Field(
        default="",
        description="Witnesses that cosign each checkpoint: `<verifier key> <URL>` entries separated by `;` or newlines (ledger/witnessing.py).",
    )
    witness_poll_seconds: float = Field(
        default=1.0, gt=0, le=3600, description="How often each witness's collector looks for a checkpoint it has not cosigned."
    )
    dashboard_session_hours: float = Field(
        default=8, gt=0, le=24 * 30, description="A dashboard sign-in lasts this long (revoking the token ends it at once)."
    )
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = Field(
        default="INFO", description="The least severe log records written (JSON lines on standard error)."
    )

    @property
    def projection(self) -> ProjectionSettings:
        return ProjectionSettings(late_report_days=self.late_report_days)

    @cached_property
    def master_key(self) -> bytes:
        return load_or_create_master_key(self.encryption_key_file)

    @cached_property
    def witness_endpoints(self) -> list[WitnessEndpoint]:
        return parse_witnesses(self.witnesses)

    @cached_property
    def signer(self) -> Signer:
        return Signer(load_or_create_signing_key(self.signing_key_file), self.origin)


class SettingsError(ConfigurationError):
    """A LEDGER_* variable that cannot be used: named, with why (exit 2, not a traceback)."""


def from_environment() -> Settings:
    """The settings the environment gives, or SettingsError naming the first variable at fault."""
    try:
        return Settings()
    except ValidationError as error:
        first = error.errors()[0]
        name = f"{Settings.model_config.get('env_prefix', '')}{first['loc'][0]}".upper() if first["loc"] else "LEDGER_*"
        given = str(first.get("input", ""))
        shown = given if len(given) <= 60 else given[:60] + "..."
        raise SettingsError(f"{name}: {first['msg'].removeprefix('Value error, ')} (it is {shown!r})") from None
