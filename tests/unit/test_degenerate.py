"""Degenerate text: Gopher's repetition rules, gzip's ratio and control tokens flag loops, and not natural prose."""

from __future__ import annotations

import json

from inspector.config import PACKAGE_DIR
from inspector.detect.degenerate import DegenerateDetector, compression_ratio

DETECT = DegenerateDetector()


def labels(text: str) -> list[str]:
    return [s.label or "" for s in DETECT.detect(text)]


def test_a_loop_is_flagged_over_its_region() -> None:
    opening = "Soup is best made slowly, with onions softened in butter before the stock goes in. "
    loop = "This recipe is a great recipe for vegetarians. " * 8
    text = opening + loop
    spans = DETECT.detect(text)
    rules = {s.label.split(" ")[0] + " " + s.label.split(" ")[1] for s in spans if s.label}
    assert {"repeated 5-grams", "gzip ratio"} <= rules
    ngram = next(s for s in spans if s.label and s.label.startswith("repeated"))
    assert ngram.start >= len(opening) and text[ngram.start : ngram.end] == ngram.text
    assert compression_ratio(text) > 2.4


def test_repeated_lines_are_flagged() -> None:
    text = "\n".join(["Step one: chop the onions finely.", "Stir.", "Stir.", "Stir.", "Serve it hot with bread."] * 2)
    text += "\nA closing line about soups of many kinds, from many places, in many seasons of the year."
    assert "repeated lines" in labels(text)


def test_a_control_token_is_flagged_even_in_a_short_text() -> None:
    assert labels("Sure.<|im_end|>") == ["control token"]


def test_short_text_is_not_judged_for_repetition() -> None:
    assert labels("yes yes yes yes yes yes yes yes yes yes") == []


def test_natural_prose_is_not_flagged() -> None:
    # The naturalness panel's documents: Persuasion, in chunks of about 4,400 characters.
    docs = [json.loads(x)["text"] for x in (PACKAGE_DIR / "data" / "natural_text.jsonl").read_text().splitlines()]
    flagged = [i for i, d in enumerate(docs) if DETECT.detect(d)]
    assert len(docs) >= 50 and flagged == []


def test_the_report_line_shows_only_when_some_model_wrote_degenerate_text() -> None:
    from inspector.analysis.report_lines import text_shape_lines

    def report(rate: float) -> dict[str, object]:
        m = {"n_degenerate_scanned": 10, "degenerate_rate": rate, "degenerate_rate_ci": [0.0, 0.5]}
        return {
            "models": {
                "p/organism": {**m, "n_degenerate_at_limit": 2},
                "p/base": {**m, "degenerate_rate": 0.0, "n_degenerate_at_limit": 0},
            },
            "paired_difference_degenerate": None,
        }

    assert text_shape_lines(report(0.0)) == []
    (line,) = text_shape_lines(report(0.3))
    assert "p/organism 30.0%" in line and "(2 at the token limit)" in line and "p/base 0.0%" in line
