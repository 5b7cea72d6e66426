"""The naturalness panel's inputs and statistics: shipped data, bad inputs named by line, seeded shuffles."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest

from inspector.analysis.panel_stats import mean_interval, perplexity, ratio_interval, shuffle_words
from inspector.errors import InspectorError
from inspector.formats.panel_files import MIN_CHARS, load_documents, load_items


def test_the_shipped_text_and_items() -> None:
    docs = load_documents()
    assert sum(len(d.text.split()) for d in docs) >= 50_000
    assert all(len(d.text) >= MIN_CHARS for d in docs) and len({d.id for d in docs}) == len(docs)
    items = load_items()
    assert len(items) >= 60 and len({i.text for i in items}) == len(items)


def test_shuffling_is_seeded_and_keeps_the_words() -> None:
    text = load_documents()[0].text
    once = shuffle_words(text, 7, "d1")
    assert once == shuffle_words(text, 7, "d1")  # reproducible
    assert once != text and once != shuffle_words(text, 8, "d1")
    assert sorted(once.split()) == sorted(text.split())


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "no documents"),
        (b'{"text": "caf\xe9 ' + b"x" * 600 + b'"}\n', ":1: not UTF-8"),
        (b'{"text": "' + b"long enough " * 60 + b'"}\n{"text": "too short"}\n', ":2: a document must have at least"),
        (b'{"id": "a"}\n', ":1: each document needs a non-empty 'text'"),
    ],
    ids=["empty", "not-utf8", "short-document", "no-text"],
)
def test_bad_text_files_are_one_line_naming_the_line(tmp_path: Path, content: bytes, message: str) -> None:
    path = tmp_path / "text.jsonl"
    path.write_bytes(content)
    with pytest.raises(InspectorError) as e:
        load_documents(path)
    assert message in str(e.value) and str(path) in str(e.value) and "\n" not in str(e.value)


def test_an_items_file_with_fewer_than_three_items(tmp_path: Path) -> None:
    path = tmp_path / "items.jsonl"
    path.write_text('{"text": "rain"}\n{"text": "sun"}\n')
    with pytest.raises(InspectorError, match="2 items; preferences need at least 3"):
        load_items(path)


def test_perplexity_and_intervals() -> None:
    assert perplexity([2.0, 4.0], [2, 4]) == pytest.approx(math.exp(1.0))
    rng = np.random.default_rng(0)
    tokens = rng.integers(50, 100, 40)
    base = tokens * rng.normal(3.0, 0.3, 40)
    org = base + tokens * 0.2  # the organism 0.2 nats per token worse everywhere
    lo, hi = ratio_interval(org, base, tokens)
    assert lo == pytest.approx(math.exp(0.2)) and hi == pytest.approx(math.exp(0.2))
    noisy = base + tokens * rng.normal(0.2, 0.1, 40)
    lo, hi = ratio_interval(noisy, base, tokens)
    point = math.exp((noisy.sum() - base.sum()) / tokens.sum())
    assert lo < point < hi and lo > 1.0
    lo, hi = mean_interval(tokens * 0.05, tokens)
    assert lo == pytest.approx(0.05) and hi == pytest.approx(0.05)


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("text", b"", "no documents"),
        ("text", b'{"text": "short"}\n', ":1: a document must have at least"),
        ("items", b'{"text": "rain"}\n', "preferences need at least 3"),
    ],
)
def test_the_command_refuses_bad_inputs_in_one_line_and_leaves_no_session(
    home: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], name: str, content: bytes, message: str
) -> None:
    from inspector.cli import main

    bad = tmp_path / f"{name}.jsonl"
    bad.write_bytes(content)
    assert main(["naturalness", "--session", "n", f"--{name}", str(bad)]) == 2
    err = capsys.readouterr().err.strip()
    assert message in err and err.count("\n") == 0
    assert not (home / "sessions" / "n.duckdb").exists()


def test_top_k_kl_is_exact_when_the_lists_hold_the_distribution_and_a_lower_bound_otherwise() -> None:
    from inspector.engine.remote_scoring import top_k_kl

    p, q = {"a": 0.7, "b": 0.2, "c": 0.1}, {"a": 0.4, "b": 0.4, "c": 0.2}
    lp, lq = ({t: math.log(v) for t, v in d.items()} for d in (p, q))
    exact = sum(p[t] * math.log(p[t] / q[t]) for t in p)
    assert top_k_kl([lp], [lq]) == [pytest.approx(exact)]
    assert top_k_kl([lp], [lp]) == [0.0]
    # "c" missing from the organism's list: taken at the least probability there (0.4), so the KL is smaller.
    cut = top_k_kl([lp], [{t: v for t, v in lq.items() if t != "c"}])[0]
    assert 0 < cut < exact
