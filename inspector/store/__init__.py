"""All DuckDB access: one file per session, numbered migrations, SQL only with bound parameters."""

from inspector.store.session import Store, StoreError

__all__ = ["Store", "StoreError"]
