"""A transparency log witness (c2sp.org/tlog-witness), shipped with the ledger and run by the
parties who do not trust its operator: it cosigns a log's checkpoint only if it is consistent with
every checkpoint of that log it cosigned before, so the operator cannot show two histories.

Imports from ledger/ only its standard-library formats (notes, verifier keys, cosignatures,
Merkle proofs) and its key files; nothing from the ledger's database, projections or API.
"""
