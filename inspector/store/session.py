"""The session store: one `Store` facade composed of the parts, each part a module named for what it holds."""

from __future__ import annotations

from inspector.store.exchange import ExchangePart
from inspector.store.labels import LabelsPart
from inspector.store.rollouts import RolloutsPart
from inspector.store.samples import SamplesPart
from inspector.store.search import SearchPart
from inspector.store.spans import SpansPart
from inspector.store.summary import SummaryPart


class Store(RolloutsPart, SpansPart, LabelsPart, SamplesPart, SummaryPart, ExchangePart, SearchPart):
    """A session file; open it with `Store.open(path)` or `Store.memory()` (connection.StoreBase)."""
