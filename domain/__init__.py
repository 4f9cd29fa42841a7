"""The settlement's language, pure: the event catalog, the aggregates and the rules they enforce.

Imports only the standard library, pydantic and ``eventsourcing.domain``.
"""
