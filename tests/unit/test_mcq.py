"""Multiple choice without a model: the files (JSONL, MMLU's CSV, a directory of them) and their bad lines, the
shipped set, what counts as right, the figures, the suite's --only, and the suite view's merging of parts."""

from __future__ import annotations

import json
import math
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from inspector.analysis.mcq import correct, mcq_figures, question_text
from inspector.errors import InspectorError
from inspector.formats.mcq_files import Question, load_questions


def test_the_shipped_set_has_enough_questions_subjects_and_balanced_letters() -> None:
    questions = load_questions()
    subjects = Counter(q.subject for q in questions)
    assert len(questions) >= 200 and len(subjects) >= 10
    for subject in subjects:
        letters = Counter(q.letters[q.answer] for q in questions if q.subject == subject)
        assert max(letters.values()) - min(letters.values()) <= 1 and len(letters) == 4, subject
    assert all(len(set(q.choices)) == len(q.choices) == 4 for q in questions)
    assert len({q.id for q in questions}) == len(questions)


def test_jsonl_answers_as_letter_index_or_text(tmp_path: Path) -> None:
    f = tmp_path / "q.jsonl"
    rows = [
        {"question": "2+2?", "choices": ["3", "4"], "answer": "B"},
        {"question": "Red?", "choices": ["red", "blue", "green"], "answer": 0, "subject": "colours"},
        {"id": "x", "question": "Sky?", "choices": ["green", "blue"], "answer": "blue"},
        {"question": "Lower?", "choices": ["a", "b", "c"], "answer": "c"},
    ]
    f.write_text("".join(json.dumps(r) + "\n" for r in rows))
    qs = load_questions(f)
    assert [q.answer for q in qs] == [1, 0, 1, 2] and qs[1].subject == "colours" and qs[2].id == "x"
    assert qs[0].letters == "AB"


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ({"question": "q", "choices": ["a", "b", "c", "d"], "answer": "E"}, ":2: the answer 'E' is not one of its 4"),
        ({"question": "q", "choices": ["a", "b"], "answer": 2}, ":2: the answer 2 is not one of its 2 choices"),
        ({"question": "q", "choices": ["a", "b"], "answer": "Rome"}, "is not one of its 2 choices"),
        ({"question": "q", "choices": ["a", "b"], "answer": True}, "is not one of its 2 choices"),
        ({"question": "q", "choices": ["a"], "answer": "A"}, ":2: a question needs at least 2 choices (1 here)"),
        ({"question": "q", "choices": "ab", "answer": "A"}, ":2: 'choices' must be a list of non-empty strings"),
        ({"choices": ["a", "b"], "answer": "A"}, ":2: each line needs a non-empty 'question'"),
        ({"question": "q", "choices": list("abcdefghijk"), "answer": "A"}, ":2: at most 10 choices"),
    ],
)
def test_bad_jsonl_lines_name_the_file_and_line(tmp_path: Path, line: dict[str, Any], message: str) -> None:
    f = tmp_path / "bad.jsonl"
    good = {"question": "fine", "choices": ["a", "b"], "answer": "A"}
    f.write_text(json.dumps(good) + "\n" + json.dumps(line) + "\n")
    with pytest.raises(InspectorError) as e:
        load_questions(f)
    assert str(f) in str(e.value) and message in str(e.value) and "\n" not in str(e.value)


def test_mmlu_csv_layout_a_header_and_a_directory(tmp_path: Path) -> None:
    d = tmp_path / "test"
    d.mkdir()
    (d / "astronomy_test.csv").write_text(
        '"Which planet is red?",Venus,Mars,Earth,Jupiter,B\n"Hot?",Sun,Moon,Pluto,Ice,A\n'
    )
    (d / "anatomy_test.csv").write_text('question,A,B,C,D,answer\n"Pumps blood?",Lung,Heart,"Skin, mostly",Bone,B\n')
    qs = load_questions(d)
    assert [(q.subject, q.answer) for q in qs] == [("anatomy", 1), ("astronomy", 1), ("astronomy", 0)]
    assert qs[0].choices[2] == "Skin, mostly" and qs[0].id == "anatomy-1"
    assert len(load_questions(d / "astronomy_test.csv")) == 2


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ('"ok?",a,b,c,d,A\n"bad?",a,b,c,d,F\n', ":2: the answer 'F' is not one of its 4 choices"),
        ('"ok?",a,b,c,d,A\n"short?",A\n', ":2: expected question, at least 2 choices and the answer letter"),
        ('"ok?",a,b,c,d,A\n"one?",a,A\n', ":2: expected question, at least 2 choices"),
        ('"ok?",a,,c,d,A\n', ":1: 'choices' must be a list of non-empty strings"),
    ],
)
def test_bad_csv_lines_name_the_file_and_line(tmp_path: Path, content: str, message: str) -> None:
    f = tmp_path / "x_test.csv"
    f.write_text(content)
    with pytest.raises(InspectorError) as e:
        load_questions(f)
    assert str(f) in str(e.value) and message in str(e.value)


def test_the_command_refuses_a_bad_file_in_one_line_and_leaves_no_session(
    home: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from inspector.cli import main

    bad = tmp_path / "bad.jsonl"
    bad.write_text(json.dumps({"question": "q", "choices": ["a", "b"], "answer": "C"}) + "\n")
    assert main(["mcq", "--session", "m", "--questions", str(bad)]) == 2
    err = capsys.readouterr().err.strip()
    assert f"{bad}:1: the answer 'C'" in err and err.count("\n") == 0
    assert main(["naturalness", "--session", "m", "--only", "mcq,speed"]) == 2
    assert "--only 'mcq,speed': choose among perplexity" in capsys.readouterr().err
    assert not (home / "sessions" / "m.duckdb").exists()


Q = Question("q1", "geography", "Capital of France?", ("Lyon", "Paris", "Nice", "Metz"), 1)


def test_right_only_when_the_answer_is_strictly_likeliest() -> None:
    assert correct(Q, [-3.0, -1.0, -2.0, -4.0])
    assert not correct(Q, [-1.0, -1.0, -2.0, -4.0])  # a tie is not a pick
    assert not correct(Q, [-math.inf] * 4)  # no letter in a server's top few
    assert correct(Q, [-math.inf, -5.0, -math.inf, -math.inf])


def test_prompts_follow_lm_evals_layout() -> None:
    raw = question_text(Q, chat=False)
    assert raw.startswith("The following are multiple choice questions (with answers) about geography.\n\n")
    assert raw.endswith("\nA. Lyon\nB. Paris\nC. Nice\nD. Metz\nAnswer:")
    chat = question_text(Q, chat=True)
    assert chat.startswith("The following is a multiple choice question about geography. Answer with the letter")
    assert chat.endswith("\nD. Metz")


def test_figures_accuracy_interval_picks_and_paired_difference() -> None:
    qs = [Question(f"q{k}", "s" if k < 5 else "t", "?", ("a", "b", "c", "d"), k % 4) for k in range(10)]

    def picking(letter: int | None) -> list[list[float]]:
        # letter None: the right one each time; else always that letter; mass 0.5 spread as 0.35 + 3 x 0.05.
        rows = []
        for q in qs:
            top = q.answer if letter is None else letter
            rows.append([math.log(0.35 if k == top else 0.05) for k in range(4)])
        return rows

    f = mcq_figures("p", qs, {"organism": picking(0), "base": picking(None)})
    org, base = f["models"]["p/organism"], f["models"]["p/base"]
    assert org["accuracy"] == pytest.approx(0.3) and base["accuracy"] == 1.0
    assert org["accuracy_ci"][0] < 0.3 < org["accuracy_ci"][1] and org["picks"] == {"A": 1.0}
    assert org["answer_mass"] == pytest.approx(0.5) and org["chance"] == 0.25 and "note" not in org
    assert org["subjects"]["s"] == {"accuracy": pytest.approx(0.4), "n": 5}
    d = f["organism_vs_base"]
    assert d["difference"] == pytest.approx(-0.7) and d["base_only"] == 7 and d["organism_only"] == 0
    assert d["mcnemar_exact_p"] < 0.05 and d["ci"][1] < 0
