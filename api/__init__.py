"""The ledger's doors: the FastAPI app, its routes and auth, settings, and the `ledger` CLI."""
