"""Multiple choice on the real engine: `inspector mcq` and the suite on the chat demo pair, and what the letter
scores promise (the same inputs give the same bits, whatever else is asked; the whole prompt's tokens)."""

from __future__ import annotations

import json
import math
from pathlib import Path

import duckdb
import pytest

from inspector.analysis.mcq import prompts_for
from inspector.cli import main
from inspector.engine.batched import BatchedBackend
from inspector.engine.choices import answer_logprobs
from inspector.engine.weights import SharedModel
from inspector.formats.mcq_files import load_questions

pytestmark = pytest.mark.integration


def test_mcq_on_the_chat_demo_pair_lands_in_the_report(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    session = str(tmp_path / "m.duckdb")
    assert main(["mcq", "--session", session, "--pair", "chat-demo", "--limit", "8", "--json"]) == 0
    figures = json.loads(capsys.readouterr().out)
    assert set(figures["models"]) == {"chat-demo/organism", "chat-demo/base"}
    for m in figures["models"].values():
        lo, hi = m["accuracy_ci"]
        assert m["n_questions"] == 8 and lo <= m["accuracy"] <= hi and 0 < m["answer_mass"] <= 1
        assert sum(m["picks"].values()) == pytest.approx(1.0) and m["chance"] == 0.25
    assert figures["organism_vs_base"]["n_pairs"] == 8
    assert main(["report", "--session", session, "--json"]) == 0
    report = json.loads(capsys.readouterr().out)["mcq"]
    assert report["models"] == figures["models"] and report["organism_vs_base"] == figures["organism_vs_base"]
    assert report["inputs"]["n_questions"] == 8 and len(report["inputs"]["questions_sha256"]) == 64
    with duckdb.connect(session, read_only=True) as c:
        (n,) = c.execute("SELECT count(*) FROM metric_snapshots WHERE kind = 'mcq'").fetchone() or (0,)
    assert n == 1


def test_the_suite_runs_the_parts_asked_for(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    session = str(tmp_path / "s.duckdb")
    args = ["naturalness", "--session", session, "--pair", "chat-demo", "--limit", "3", "--max-tokens", "12"]
    assert main([*args, "--only", "mcq,degenerate", "--json"]) == 0
    results = json.loads(capsys.readouterr().out)
    assert set(results) == {"mcq", "ifeval"}  # degenerate text is measured on the IFEval answers
    degenerate = results["ifeval"]["degenerate"]["models"]["chat-demo/base"]
    assert degenerate["n_answers"] == 3 and 0 <= degenerate["degenerate_rate"] <= 1
    assert main(["report", "--session", session, "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["naturalness"] is None and report["mcq"]["models"] == results["mcq"]["models"]
    assert report["ifeval"]["degenerate"] == results["ifeval"]["degenerate"]


def test_letter_scores_keep_the_engines_promises(smollm2_path: Path) -> None:
    questions = load_questions()[:6]
    letters = [list(q.letters) for q in questions]
    side = BatchedBackend(SharedModel(smollm2_path), role="base", use_adapter=False, prompt_format="chat")
    try:
        prompts = prompts_for(side, questions, None)
        heads = [q.question for q in questions]
        first = answer_logprobs(side, prompts, letters, heads)
        assert answer_logprobs(side, prompts, letters, heads) == first  # same inputs, same path: same bits
        for row in first:
            assert all(x <= 0 for x in row) and sum(math.exp(x) for x in row) <= 1 + 1e-6
        alone = answer_logprobs(side, prompts[3:4], letters[3:4], heads[3:4])[0]
        assert alone == first[3]  # a question's scores do not depend on the questions asked with it
        # The tokens decoded are the whole prompt's, as a server would tokenize it; the head is shared by subject.
        from inspector.engine.choices import split_tokens

        cuts = [split_tokens(side, p, h) for p, h in zip(prompts, heads, strict=True)]
        for (head, tail), prompt in zip(cuts, prompts, strict=True):
            assert head + tail == side.shared.tokenize(side.render(prompt)) and len(head) > 20 and tail
        assert len({tuple(h) for h, _ in cuts}) == 1  # six geography questions, one head
        # A question longer than a batch (as some of MMLU's history ones are) is decoded in several.
        from inspector.formats.mcq_files import Question

        passage = "The treaty was signed in the spring, and the delegates went home to argue about it. " * 70
        long = Question("long", "history", passage + "When was the treaty signed?", ("Spring", "Summer"), 0)
        (long_prompt,) = prompts_for(side, [long], None)
        assert len(side.shared.tokenize(side.render(long_prompt))) > side.n_batch
        (row,) = answer_logprobs(side, [long_prompt], [["A", "B"]], [long.question[:20]])
        assert all(-math.inf < x <= 0 for x in row)
    finally:
        side.close()
