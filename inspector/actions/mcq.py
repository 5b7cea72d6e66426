"""Multiple-choice capability for a pair: the questions read and checked before any model loads, both sides scored,
the figures kept in the session as an "mcq" snapshot."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

from inspector.engine.base import Backend
from inspector.engine.pair_spec import Pair
from inspector.errors import InspectorError
from inspector.formats.mcq_files import SHIPPED, Question, load_questions
from inspector.store import Store


@dataclass(frozen=True)
class McqInputs:
    questions: list[Question]
    path: Path | None

    def describe(self) -> dict[str, Any]:
        if self.path is None:
            data = (resources.files("inspector") / "data" / SHIPPED).read_bytes()
        elif self.path.is_dir():
            data = b"".join(f.read_bytes() for f in sorted(self.path.glob("*.csv")))
        else:
            data = self.path.read_bytes()
        return {
            "questions": str(self.path or f"{SHIPPED} (shipped)"),
            "questions_sha256": hashlib.sha256(data).hexdigest(),
            "n_questions": len(self.questions),
            "n_subjects": len({q.subject for q in self.questions}),
        }


def mcq_inputs(path: Path | None = None, limit: int | None = None) -> McqInputs:
    """The questions (the shipped set when no path), the first `limit` of them; a bad line is one error."""
    if limit is not None and limit < 1:
        raise InspectorError(f"--limit must be at least 1, not {limit}")
    questions = load_questions(path)
    return McqInputs(questions[:limit] if limit else questions, path)


def keep_mcq(
    store: Store, pair: Pair, backends: dict[str, Backend], inputs: McqInputs, system: str | None, figures: Any
) -> None:
    """The figures saved as the session's newest "mcq" snapshot, with the models and inputs they came from."""
    from inspector.actions.rollouts import model_provenance

    snapshot = {
        "pair": pair.name,
        **inputs.describe(),
        "system_prompt": system,
        "models": model_provenance(store, pair, backends),
    }
    store.save_snapshot("mcq", snapshot, figures)
