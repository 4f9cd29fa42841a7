"""The Ledger: eventsourcing's Application, opened on a database, and the services built on it.

Each service holds one concern, with the methods its callers need:

    reader        LogReader      what the log held at any point; cases, histories, terms (log_reader.py)
    appender      Appender       the write path: decide a batch and append it whole (appending.py)
    signed_heads  SignedHeads    signed checkpoints of the tree, their cosignatures and proofs (signed_heads.py)
    tokens        TokenRegistry  the API's tokens (token_registry.py)
    access_log    AccessLog      who read personal data or exported the log (access_log.py)
    integrity     Integrity      the last verification, and verifying what was added since (incremental_verify.py)
    erasures      Erasures       destroyed case keys still in the files, keys a forgetting left live (erasure.py)

`store` (the recorder), `tree` (Merkle proofs) and `personal` (case keys) are what they use.
"""

from pathlib import Path
from typing import Any
from uuid import UUID

from eventsourcing.application import Application
from eventsourcing.persistence import Mapper

from ledger.access_log import AccessLog
from ledger.appending import Appender
from ledger.checkpoints import Signer
from ledger.config import persistence_env
from ledger.erasure import Erasures
from ledger.incremental_verify import Integrity
from ledger.key_files import create_database_file
from ledger.log_reader import LogReader
from ledger.mapper import LedgerMapper
from ledger.personal_data import PersonalData
from ledger.recorders.base import LedgerRecorder
from ledger.recorders.sqlite import in_wal_mode
from ledger.signed_heads import SignedHeads
from ledger.token_registry import TokenRegistry
from ledger.tree import LogTree


class Ledger(Application[UUID]):
    name = "Ledger"

    def __init__(
        self, database_url: str, signer: Signer | None = None, master_key: bytes | None = None, create_tables: bool = True
    ) -> None:
        """`master_key` seals personal data (see ledger/personal_data.py); without one, postings
        carrying personal fields are refused. `create_tables=False` for a helper process of a
        ledger already open: schema changes run by several processes at once can deadlock."""
        env = persistence_env(database_url)
        if not create_tables:
            env["CREATE_TABLE"] = "no"
        self.database_url = database_url  # for processes that open the same database (may hold a password: never log it)
        if "SQLITE_DBNAME" in env:
            create_database_file(Path(env["SQLITE_DBNAME"]))  # 0600, before SQLite makes it 0644
            in_wal_mode(env["SQLITE_DBNAME"], float(env["SQLITE_LOCK_TIMEOUT"]))
        try:
            super().__init__(env)
        except BaseException:
            # The library opens its connection pool before it can fail (e.g. on an unreachable
            # server): close it here, or its threads outlive this half-built ledger.
            if (factory := vars(self).get("factory")) is not None:
                factory.close()
            raise
        if not isinstance(self.recorder, LedgerRecorder):
            raise TypeError(f"{type(self.recorder).__name__} is not the ledger's recorder")
        self.personal = PersonalData(self.recorder, master_key) if master_key is not None else None
        self.store: LedgerRecorder = self.recorder
        self.backend = "postgresql" if env["PERSISTENCE_MODULE"].endswith("postgres") else "sqlite"
        self.signer = signer
        self.tree = LogTree(self.store.leaf_hashes)
        # The services, each with what its callers need.
        self.reader = LogReader(self.store, self.mapper, self.repository, self.personal)
        self.appender = Appender(self.store, self.mapper, self.reader, self.personal)
        self.signed_heads = SignedHeads(self.store, self.tree, signer)
        self.tokens = TokenRegistry(self.store, self.reader, self.save)
        self.access_log = AccessLog(self.store)
        self.integrity = Integrity(self.store, self.signed_heads)
        self.erasures = Erasures(self.store, self.reader.decode, self.reader.merged_into)

    @property
    def datastore(self) -> Any:
        """The recorders' database connection: the read model keeps its tables beside the log's."""
        return self.store.datastore  # type: ignore[attr-defined]

    def has_log(self) -> bool:
        """Whether the database holds the log's tables (`ledger migrate`, or the server, made them)."""
        return self.store.has_log_tables()

    def made_with_keys(self) -> tuple[bool, bool]:
        """(whether a checkpoint was ever signed, whether personal data was ever sealed): what a
        signing key and a master key other than the ones used could not take over."""
        return self.signed_heads.last_signed() is not None, self.store.holds_case_keys()

    def grant_writer(self, writer: str, login: bool) -> bool:
        """Creates PostgreSQL's writer role if missing and grants it what the API and the projector
        need on the log's tables (ledger/postgres_grants.py); True if the role was created."""
        if self.backend != "postgresql":
            raise ValueError("database roles are PostgreSQL's; an SQLite file is protected by its file permissions")
        from ledger.postgres_grants import grant_writer  # psycopg loads only for a PostgreSQL ledger

        prefix = self.store.events_table_name.removesuffix("_events")
        with self.datastore.transaction(commit=True) as cursor:
            return grant_writer(cursor, self.datastore.schema, prefix, writer, login)

    def construct_mapper(self) -> Mapper[UUID]:
        return self.factory.mapper(transcoder=self.construct_transcoder(), mapper_class=LedgerMapper)
