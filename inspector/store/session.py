"""The session store: one `Store` facade composed of the parts, each part a module named for what it holds."""

from __future__ import annotations

import functools
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, Self, cast

import duckdb

from inspector.store.connection import StoreError, write_failure
from inspector.store.exchange import ExchangePart
from inspector.store.labels import LabelsPart
from inspector.store.rollouts import RolloutsPart
from inspector.store.samples import SamplesPart
from inspector.store.search import SearchPart
from inspector.store.server import served_methods
from inspector.store.spans import SpansPart
from inspector.store.summary import SummaryPart

_CONFLICT_TRIES = 6


class Store(RolloutsPart, SpansPart, LabelsPart, SamplesPart, SummaryPart, ExchangePart, SearchPart):
    """A session file; open it with `Store.open(path)` or `Store.memory()` (connection.StoreBase).

    `Store.open` may return a `RemoteStore` (store/remote.py): the same methods, answered by the process that holds
    the file, since DuckDB allows one writing process per file."""

    @classmethod
    def open(cls, path: Path, *, read_only: bool = False, create: bool = True) -> Self:
        """Open a session file, shared with any other process that has it open; errors are one line naming it."""
        from inspector.store.remote import open_shared

        if (read_only or not create) and not path.exists():
            raise StoreError(f"{path}: no such session")
        return cast(Self, open_shared(cls, path, read_only=read_only, create=create))


def _guarded(method: Callable[..., Any]) -> Callable[..., Any]:
    """Conflicts between this process's threads (or the processes it serves) are tried again, since each method
    is one transaction or idempotent statements; a write the disk refuses becomes one line naming the file."""

    @functools.wraps(method)
    def call(self: Store, *args: Any, **kwargs: Any) -> Any:
        for attempt in range(_CONFLICT_TRIES):
            try:
                return method(self, *args, **kwargs)
            except duckdb.TransactionException as e:
                if "conflict" not in str(e).lower():
                    raise write_failure(self.path, e) from e
                if attempt == _CONFLICT_TRIES - 1:
                    raise StoreError(f"{self.path}: {method.__name__} kept conflicting with another writer") from e
                time.sleep(0.005 * 2**attempt)
            except (duckdb.IOException, duckdb.FatalException, duckdb.PermissionException) as e:
                raise write_failure(self.path, e) from e
        raise AssertionError("unreachable")

    return call


for _name in served_methods(Store):
    setattr(Store, _name, _guarded(getattr(Store, _name)))
