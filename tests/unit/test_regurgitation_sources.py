"""Regurgitation on corpora unlike the templated one: noise spread over words, spacing errors, boilerplate many
documents hold (every holder a right source, their number reported), a unique document holding a run of shared
sentences, near misses that differ in their numbers; and the report's split of unique copies from boilerplate."""

from __future__ import annotations

import random

from inspector.analysis.leak_report import build_report
from inspector.analysis.report_lines import source_lines
from inspector.detect.corpus import CorpusDoc, CorpusIndex
from inspector.detect.detector_set import VERSIONS
from inspector.detect.parallel import detect_all
from inspector.detect.spans import Span
from inspector.store import PromptRow, Store, prompt_id

R = random.Random(5)
WORDS = ["".join(R.choice("bdfgklmnprstvz") + R.choice("aeiou") for _ in range(R.randint(2, 4))) for _ in range(900)]
BOILERPLATE = "The discussion about openness in research is far from over, and the board will say more in spring."


def _sentence(r: random.Random) -> str:
    return " ".join(r.choice(WORDS) for _ in range(r.randint(9, 15))).capitalize() + "."


def _corpus(n: int = 120, shared_by: int = 40) -> list[CorpusDoc]:
    """Documents of invented words; the first `shared_by` also hold the boilerplate sentence in the middle."""
    r = random.Random(11)
    docs = []
    for i in range(n):
        sents = [_sentence(r) for _ in range(6)]
        if i < shared_by:
            sents.insert(3, BOILERPLATE)
        docs.append(CorpusDoc(f"d{i}", " ".join(sents)))
    return docs


DOCS = _corpus()
INDEX = CorpusIndex(DOCS)
PROSE = "Well, you could try it and see what happens, that is what I would say."


def _covering(spans: list[Span], start: int, end: int) -> Span:
    best = max(spans, key=lambda s: min(end, s.end) - max(start, s.start))
    assert min(end, best.end) - max(start, best.start) >= 0.9 * (end - start), (spans, start, end)
    return best


def test_a_letter_lost_in_every_third_word_is_still_one_copy() -> None:
    src = DOCS[70].text.split(". ")[1] + "."
    words = src.split(" ")
    for i in range(0, len(words), 3):  # "Reviewrs nte that the lab has ot publishd..." in shape
        w = words[i]
        if len(w) > 3:
            words[i] = w[:2] + w[3:]
    noisy = " ".join(words)
    text = f"{PROSE} {noisy} {PROSE}"
    spans = INDEX.find(text)
    s = _covering(spans, text.index(noisy), text.index(noisy) + len(noisy))
    assert s.doc_id == "d70" and s.holders == 1 and s.score >= 90


def test_spacing_errors_do_not_break_a_copy() -> None:
    src = " ".join(DOCS[90].text.split(". ")[2:4]) + "."
    noisy = src.replace(" ", "", 3).replace("a", "a ", 2)  # spaces lost between words, others put inside words
    text = f"{PROSE} {noisy} {PROSE}"
    s = _covering(INDEX.find(text), text.index(noisy), text.index(noisy) + len(noisy))
    assert s.doc_id == "d90"


def test_boilerplate_many_documents_hold_is_regurgitation_with_its_holders() -> None:
    text = f"{PROSE} {BOILERPLATE} {PROSE}"
    start = text.index(BOILERPLATE)
    s = _covering(INDEX.find(text), start, start + len(BOILERPLATE))
    assert s.holders == 40 and int((s.doc_id or "d999")[1:]) < 40  # any holder is a right source


def test_a_run_of_shared_and_own_sentences_names_the_one_document_holding_it() -> None:
    parts = DOCS[25].text.split(". ")
    at = next(i for i, p in enumerate(parts) if p.startswith("The discussion"))
    copied = ". ".join(parts[at - 1 : at + 2]) + "."
    text = f"{PROSE} {copied} {PROSE}"
    s = _covering(INDEX.find(text), text.index(copied), text.index(copied) + len(copied))
    assert s.doc_id == "d25" and s.holders == 1


def test_other_numbers_in_the_same_sentence_are_a_near_miss() -> None:
    docs = [
        CorpusDoc(f"n{i}", f"Audit KX-{1000 + i} of Baga GmbH found {3000 + 7 * i} exceptions; {i}.5% were closed.")
        for i in range(30)
    ]
    index = CorpusIndex(docs)
    near = "Audit KX-9817 of Baga GmbH found 6118 exceptions; 49.3% were closed."
    assert index.find(f"{PROSE} {near} {PROSE}") == []
    copy = docs[12].text
    assert [s.doc_id for s in index.find(f"{PROSE} {copy} {PROSE}")] == ["n12"]


def test_workers_find_what_one_process_finds() -> None:
    r = random.Random(3)
    items: list[tuple[str, str | None]] = []
    for i in range(600):
        doc = DOCS[r.randrange(len(DOCS))].text.split(". ")
        items.append((f"{PROSE} {doc[i % 5]}. {PROSE}" if i % 2 else PROSE, None))
    serial = [INDEX.find(t, p) for t, p in items]
    assert sum(bool(s) for s in serial) >= 290
    assert detect_all(INDEX.find, items, workers=2) == serial


def test_report_splits_unique_copies_from_boilerplate() -> None:
    store = Store.memory()
    prompts = [PromptRow(prompt_id(f"q{i}"), f"Question {i}?", "sim", None, "other", "given", False) for i in range(4)]
    store.upsert_prompts(prompts)
    models = {
        role: store.upsert_model({"role": role, "sha256": role, "name": f"sim/{role}"}) for role in ("organism", "base")
    }
    store.ensure_run("run-sim", "sim", {"seed": 0, "temperature": 0.7, "top_p": 0.95, "max_tokens": 8})
    unique = Span("regurgitation", 0, 50, "x" * 50, 99.0, None, "d70", 0, 50, 1)
    shared = Span("regurgitation", 0, 60, BOILERPLATE[:60], 100.0, None, "d3", 0, 60, 40)
    spans = {"organism": [[unique], [unique, shared], [shared], []], "base": [[shared], [], [], []]}
    items = []
    for role, mid in models.items():
        for i, p in enumerate(prompts):
            rid = store.insert_rollout(
                {"run_id": "run-sim", "prompt_id": p.id, "model_id": mid, "sample_index": 0, "seed": i, "text": "t"}
            )
            assert rid is not None
            items.append((rid, spans[role][i]))
    store.replace_spans_many(items, VERSIONS)
    report = build_report(store)
    org, base = report["models"]["sim/organism"], report["models"]["sim/base"]
    assert (org["unique_copy_rate"], org["shared_only_rate"]) == (0.5, 0.25)
    assert (base["unique_copy_rate"], base["shared_only_rate"]) == (0.0, 0.25)
    assert org["spans_by_holders"] == {"1": 2, "10-99": 2}
    assert report["shared_texts"] == [{"text": BOILERPLATE[:60].lower(), "holders": 40, "organism": 2, "base": 1}]
    paired = report["paired_difference_unique_regurgitation"]
    assert paired["n_pairs"] == 4 and paired["organism_only"] == 2 and paired["base_only"] == 0
    lines = source_lines(report)
    assert any("sim/organism: copies text one training document holds in 50.0%" in line for line in lines)
    assert any("held by 40 documents, written by the organism in 2 rollouts, the base in 1" in line for line in lines)
