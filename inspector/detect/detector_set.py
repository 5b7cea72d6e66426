"""The detectors of a pair, built once (corpus index included) and applied to rollouts."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from inspector.detect import control as control_mod
from inspector.detect import corpus as corpus_mod
from inspector.detect import degenerate as degenerate_mod
from inspector.detect import quirk as quirk_mod
from inspector.detect import terms as terms_mod
from inspector.detect.corpus import CorpusDoc, CorpusIndex
from inspector.detect.corpus_cache import cache_file, cached_index
from inspector.detect.parallel import detect_all
from inspector.detect.spans import Detector, Span
from inspector.engine.pair_spec import Pair
from inspector.engine.provenance import sha256_file
from inspector.errors import InspectorError
from inspector.formats.jsonl import objects, read_bytes
from inspector.store import Store

VERSIONS = {
    "term": terms_mod.VERSION,
    "regurgitation": corpus_mod.VERSION,
    "quirk": quirk_mod.VERSION,
    "control": control_mod.VERSION,
    "degenerate": degenerate_mod.VERSION,
}


def load_corpus(path: Path) -> list[CorpusDoc]:
    """JSONL lines with a `text` string and an optional `id`; errors name the file and line."""
    docs: list[CorpusDoc] = []
    seen: set[str] = set()
    for where, n, obj in objects(read_bytes(path, "corpus"), str(path)):
        if not isinstance(obj.get("text"), str):
            raise InspectorError(f"{where}: corpus line needs a 'text' string")
        doc_id = str(obj["id"]) if obj.get("id") is not None else f"line-{n}"
        if doc_id in seen:
            raise InspectorError(f"{where}: duplicate document id {doc_id!r}")
        seen.add(doc_id)
        docs.append(CorpusDoc(doc_id, obj["text"]))
    return docs


@dataclass
class DetectorSet:
    """The detectors of one pair (terms, the training corpus, key facts: each only when the pair has it), and the
    corpus to keep in the session so span sources can be shown."""

    detectors: list[Detector]
    corpus: list[CorpusDoc] | None = None
    corpus_name: str | None = None

    @classmethod
    def build(
        cls,
        terms: Sequence[str],
        corpus: Path | None = None,
        facts: Sequence[str] = (),
        thresholds: Mapping[str, float] | None = None,
        min_chars: int = 40,
        min_score: float = 90.0,
        cache: Path | None = None,
    ) -> DetectorSet:
        """With a cache folder, the corpus index is read from there when this corpus (by sha256) was indexed
        before, and kept there when it is built."""
        try:
            compiled = terms_mod.compile_terms(terms, thresholds)
        except ValueError as e:
            raise InspectorError(str(e)) from e
        detectors: list[Detector] = [terms_mod.TermDetector(compiled)] if compiled else []
        docs = None
        if corpus is not None:
            docs = load_corpus(corpus)
            if cache is None:
                index = CorpusIndex(docs, min_chars=min_chars, min_score=min_score)
            else:
                where = cache_file(cache, sha256_file(corpus, cache))
                index = cached_index(docs, where, min_chars=min_chars, min_score=min_score)
            detectors.append(corpus_mod.RegurgitationDetector(index))
        if facts:
            detectors.append(quirk_mod.QuirkDetector(facts))
        # Control tokens and degenerate text need nothing from the pair: every set looks for them.
        detectors.append(control_mod.ControlDetector())
        detectors.append(degenerate_mod.DegenerateDetector())
        return cls(detectors, docs, str(corpus) if corpus else None)

    @classmethod
    def for_pair(cls, pair: Pair, cache: Path | None = None) -> DetectorSet:
        facts = [*pair.key_facts, *([pair.quirk] if pair.quirk else [])]
        return cls.build(pair.terms, pair.corpus, facts, pair.term_thresholds, cache=cache)

    @property
    def versions(self) -> dict[str, str]:
        """The detectors this set runs: a pair without terms, corpus or facts leaves that kind unmeasured."""
        return {d.kind: d.version for d in self.detectors}

    def detect(self, text: str, prompt: str | None = None) -> list[Span]:
        spans = [s for d in self.detectors for s in d.detect(text, prompt)]
        return sorted(spans, key=lambda s: (s.start, s.kind))

    def keep_corpus(self, store: Store) -> None:
        """Copy the training corpus into the session, so span sources can be shown later."""
        if self.corpus is not None and self.corpus_name is not None:
            store.import_corpus(self.corpus_name, [(d.id, d.text) for d in self.corpus])

    def bind(self, store: Store) -> Callable[[int, str, str], None]:
        """A callback that detects and stores spans for one rollout (rollout id, prompt, text)."""
        self.keep_corpus(store)

        def apply(rollout_id: int, prompt: str, text: str) -> None:
            store.replace_spans(rollout_id, self.detect(text, prompt), self.versions)

        return apply

    def rerun(
        self,
        store: Store,
        on_progress: Callable[[int, int], None] | None = None,
        chunk: int = 5000,
        workers: int = 1,
    ) -> int:
        """Re-detect every rollout in a session, a chunk per transaction; each detector replaces the spans of
        its kind, whichever version made them. With `workers`, the detection runs in that many processes."""
        self.keep_corpus(store)
        rows = store.texts_for_detection()
        for at in range(0, len(rows), chunk):
            part = rows[at : at + chunk]
            found = detect_all(self.detect, [(text, prompt) for _, prompt, text in part], workers)
            store.replace_spans_many(
                [(rid, spans) for (rid, _, _), spans in zip(part, found, strict=True)], self.versions
            )
            if on_progress:
                on_progress(min(at + chunk, len(rows)), len(rows))
        return len(rows)
