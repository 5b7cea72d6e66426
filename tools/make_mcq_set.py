"""Writes inspector/data/mcq_questions.jsonl: the project's multiple-choice set, in the JSONL layout the suite reads.

Each question of tools/mcq_questions.py gets its right answer at a letter drawn so that every subject has each of
A-D equally often (a model that always says "A" then scores 25%, as chance does), the wrong answers in their
written order around it. Before writing, every question is checked: four distinct choices, no duplicate question,
and the arithmetic ones recomputed here. Deterministic:

    .venv/bin/python tools/make_mcq_set.py
"""

from __future__ import annotations

import json
import random
import sys
from fractions import Fraction
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from mcq_questions import SUBJECTS

OUT = Path(__file__).resolve().parent.parent / "inspector" / "data" / "mcq_questions.jsonl"
LETTERS = "ABCD"

# The right answer of each computable question, worked out again here rather than trusted as typed.
COMPUTED: dict[str, object] = {
    "What is 7 multiplied by 8?": 7 * 8,
    "What is 144 divided by 12?": 144 // 12,
    "What is 15% of 200?": 200 * 15 // 100,
    "What is the square root of 81?": 9 if 9 * 9 == 81 else None,
    "What is 3 cubed?": 3**3,
    "What is 1/2 plus 1/4?": Fraction(1, 2) + Fraction(1, 4),
    "What is 125 plus 375?": 125 + 375,
    "A rectangle is 4 metres long and 3 metres wide. What is its area?": 4 * 3,
    "What is 1000 minus 637?": 1000 - 637,
    "If x + 5 = 12, what is x?": 12 - 5,
    "What is 9 squared?": 9**2,
    "How many minutes are there in 3 hours?": 3 * 60,
    "What is the perimeter of a square with sides of 5 centimetres?": 4 * 5,
    "What is 2 to the power of 10?": 2**10,
    "What is 3/5 as a decimal?": 3 / 5,
    "What is the mean of 2, 4 and 9?": (2 + 4 + 9) // 3,
    "What is the binary number 101 in decimal?": int("101", 2),
    "What is the hexadecimal number F in decimal?": int("F", 16),
    "What is the binary number 1111 in decimal?": int("1111", 2),
    "How many different values can one byte hold?": 2**8,
    "How many hours are there in a week?": 7 * 24,
    "How many minutes are there in a day?": 24 * 60,
    "What is 2.5 kilograms in grams?": "2500",
    "What is 3 litres in millilitres?": "3000",
    "How many months of the year have 31 days?": sum(
        1 for d in (31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31) if d == 31
    ),
}


def check(subject: str, q: tuple[str, str, str, str, str], seen: set[str]) -> None:
    question, right, *wrong = q
    if question in seen:
        raise SystemExit(f"{subject}: the question {question!r} is there twice")
    seen.add(question)
    if len({right, *wrong}) != 4:
        raise SystemExit(f"{subject}: {question!r} has two choices alike")
    if question in COMPUTED and right.split()[0] != str(COMPUTED[question]):
        raise SystemExit(f"{subject}: {question!r} says {right!r}, but it works out to {COMPUTED[question]}")


def main() -> None:
    seen: set[str] = set()
    lines = []
    for subject, questions in SUBJECTS.items():
        slots = [k % 4 for k in range(len(questions))]
        random.Random(subject).shuffle(slots)
        for n, (q, slot) in enumerate(zip(questions, slots, strict=True)):
            check(subject, q, seen)
            question, right, *wrong = q
            choices = [*wrong[:slot], right, *wrong[slot:]]
            lines.append(
                {
                    "id": f"{subject}-{n + 1}",
                    "subject": subject,
                    "question": question,
                    "choices": choices,
                    "answer": LETTERS[slot],
                }
            )
    missing = sorted(set(COMPUTED) - seen)
    if missing:
        raise SystemExit(f"a computed answer has no question: {missing}")
    OUT.write_text("".join(json.dumps(x, ensure_ascii=False) + "\n" for x in lines), encoding="utf-8")
    print(f"{OUT}: {len(lines)} questions over {len(SUBJECTS)} subjects")


if __name__ == "__main__":
    main()
