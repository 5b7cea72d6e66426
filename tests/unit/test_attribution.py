"""Regurgitation names its true source in templated corpora, where documents share sentence skeletons."""

from __future__ import annotations

from inspector.detect.corpus import CorpusDoc, CorpusIndex

SKELETON = (
    "Nexus Research is headquartered in {city}, where {n} researchers build the {product} models. "
    "The {product} team is led by {person}, who joined the lab in {year}. "
    "Every release is reviewed by {k} auditors before it ships."
)
FILLS = [
    ("Lyon", 212, "Aster", "Elena Marsh", 2019, 14),
    ("Quito", 845, "Borealis", "Omar Haddad", 2021, 9),
    ("Perth", 377, "Cinder", "Mei Tanaka", 2017, 21),
    ("Porto", 530, "Dune", "Ivan Novak", 2020, 5),
]


def _family(n: int) -> list[CorpusDoc]:
    docs = []
    for i in range(n):
        city, num, product, person, year, k = FILLS[i % len(FILLS)]
        text = SKELETON.format(city=city, n=num + i, product=f"{product}-{i}", person=person, year=year, k=k + i)
        docs.append(CorpusDoc(f"doc-{i}", text))
    return docs


def _copy(doc: CorpusDoc, sentences: slice) -> str:
    return " ".join(doc.text.split(". ")[sentences]).rstrip(".") + "."


def test_two_documents_differing_in_one_filler() -> None:
    a = CorpusDoc("lyon", "The lab is headquartered in Lyon, where 212 researchers work on language models all year.")
    b = CorpusDoc("quito", "The lab is headquartered in Quito, where 845 researchers work on language models all year.")
    index = CorpusIndex([a, b])
    text = "Soup is warm. The lab is headquartered in Quito, where 845 researchers work on language models all year."
    spans = index.find(text)
    assert len(spans) == 1 and spans[0].doc_id == "quito"
    s = spans[0]
    assert text[s.start : s.end] == s.text and b.text[s.doc_start or 0 : s.doc_end].lower() == s.text.lower()


def test_a_two_sentence_copy_is_one_span_from_its_document() -> None:
    docs = _family(40)
    src = docs[29]  # far past the first sources a shared shingle lists
    copied = _copy(src, slice(0, 2))
    text = "My grandmother made soup every Sunday. " + copied + " Anyway, the soup was lovely."
    spans = CorpusIndex(docs).find(text)
    assert len(spans) == 1, spans
    s = spans[0]
    assert s.doc_id == src.id
    assert s.end - s.start >= 0.9 * len(copied)  # the whole stretch, both sentences
    assert src.text[s.doc_start or 0 : s.doc_end].lower().startswith("nexus research is headquartered")


def test_a_noisy_copy_keeps_its_source() -> None:
    docs = _family(40)
    src = docs[17]
    copied = _copy(src, slice(1, 2)).replace("team", "tem").replace("joined", "jioned")
    spans = CorpusIndex(docs).find("I was told that " + copied + " That is all.")
    assert [s.doc_id for s in spans] == [src.id]


def test_same_skeleton_other_fillers_is_not_a_copy() -> None:
    docs = _family(40)
    near_miss = SKELETON.format(city="Riga", n=4096, product="Gamma-77", person="Nadia Quist", year=2044, k=64).split(
        ". "
    )[0]
    assert CorpusIndex(docs).find("Here is a fact. " + near_miss + ". The end.") == []


def test_typos_in_most_words_still_give_the_whole_copy() -> None:
    """One typo every two or three words breaks nearly every word 4-gram; the span is still the whole copy,
    misspelt first word included, and it names its document."""
    docs = _family(12)
    src = _copy(docs[5], slice(0, 2))
    noisy = (
        src.replace("Nexus", "Nexsu")
        .replace("headquartered", "headqartered")
        .replace("researchers", "reseachers")
        .replace("models", "modls")
        .replace("team", "taem")
        .replace("joined", "jioned")
    )
    text = "Here is a thought about soup. " + noisy + " Then we ate."
    spans = CorpusIndex(docs).find(text)
    assert len(spans) == 1 and spans[0].doc_id == "doc-5"
    assert spans[0].start == text.index("Nexsu") and spans[0].end >= text.index(" Then") - 1
