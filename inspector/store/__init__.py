"""All DuckDB access: one file per session, numbered migrations, SQL only with bound parameters.

Callers use one way in: `Store` (this package's facade), opened with `Store.open(path)` or `Store.memory()`.
`Store` is composed of parts, one module per concern, all sharing the connection of `connection.StoreBase`:

- `connection`: opening, migrating, the cursor per thread, transactions, bulk inserts, `StoreError`;
- `rollouts`: models, prompts, runs and rollouts (what a run writes and what the screens page through);
- `spans`: detector spans and the training corpus they point into;
- `labels`: append-only label events and undo;
- `samples`: drawn label queues with inclusion probabilities, and self-agreement rechecks;
- `summary`: what the report reads, and metric snapshots;
- `exchange`: export, all-or-nothing imports, merging label events across files;
- `search`: text search over prompts and completions, and the filters of the prompt list and label queue.
"""

from inspector.store.connection import StoreError
from inspector.store.exchange import ImportRejected
from inspector.store.labels import LABEL_FIELDS
from inspector.store.rollouts import PromptRow, model_id, prompt_id
from inspector.store.search import Filters
from inspector.store.session import Store

__all__ = ["LABEL_FIELDS", "Filters", "ImportRejected", "PromptRow", "Store", "StoreError", "model_id", "prompt_id"]
