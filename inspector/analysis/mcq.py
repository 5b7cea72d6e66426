"""Multiple-choice capability: each question asked of both sides, scored by the log-likelihood of its answer
letters (as lm-eval scores MMLU), accuracy per model with a Wilson interval and organism minus base paired by
question."""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Callable, Sequence
from typing import Any, cast

from inspector.analysis.measures import paired_difference, wilson
from inspector.engine.base import DISTRIBUTIONS, ROLES, Backend, Chat, Prompt
from inspector.engine.batched import BatchedBackend
from inspector.engine.choices import answer_logprobs
from inspector.engine.openai_http import OpenAIBackend
from inspector.engine.remote_scoring import answer_logprobs_remote
from inspector.errors import InspectorError
from inspector.formats.mcq_files import Question

Progress = Callable[[str, int, int], None]
# Below this share of probability on the answer letters a model is mostly not answering with a letter: its
# accuracy is still what it picks among them, but the report says so.
LOW_MASS = 0.2


def question_text(q: Question, chat: bool) -> str:
    """lm-eval's MMLU prompt: the subject line, the question, the lettered choices, then "Answer:" for a raw
    model to continue. A chat model is asked for the letter in the subject line instead, as its reply begins
    where the letter goes (in the line before the question, the instruction is part of the head every question
    of a subject shares, so it is decoded once)."""
    subject = q.subject.replace("_", " ")
    head = f"The following are multiple choice questions (with answers) about {subject}."
    if chat:
        head = (
            f"The following is a multiple choice question about {subject}. Answer with the letter of the right choice."
        )
    choices = [f"{letter}. {choice}" for letter, choice in zip(q.letters, q.choices, strict=True)]
    return "\n".join([head, "", q.question, *choices, *([] if chat else ["Answer:"])])


def prompts_for(backend: Backend, questions: Sequence[Question], system: str | None) -> list[Prompt]:
    chat = getattr(backend, "prompt_format", "raw") == "chat"
    before = (("system", system),) if system and chat else ()
    return [Chat(question_text(q, chat), before) if chat else question_text(q, chat) for q in questions]


def _side_logprobs(
    role: str, backend: Backend, questions: Sequence[Question], system: str | None, step: Progress
) -> list[list[float]]:
    prompts = prompts_for(backend, questions, system)
    letters = [list(q.letters) for q in questions]

    def done(k: int) -> None:
        step(f"multiple choice ({role})", k, len(questions))

    if DISTRIBUTIONS in backend.capabilities:
        # The head (template, subject line) ends where the question begins; it is decoded once per subject.
        heads = [q.question for q in questions]
        return answer_logprobs(cast(BatchedBackend, backend), prompts, letters, heads, done)
    if isinstance(backend, OpenAIBackend):
        return answer_logprobs_remote(backend, prompts, letters, done)
    raise InspectorError(
        f"{role}: multiple choice needs the answer letters' log-probabilities: a GGUF in-process or an endpoint"
        " that returns them"
    )


def correct(q: Question, logprobs: Sequence[float]) -> bool:
    """Right only when the answer's letter is strictly the likeliest: a tie (letters all outside a server's top
    few) is not a pick."""
    mine = logprobs[q.answer]
    return mine > -math.inf and all(mine > lp for k, lp in enumerate(logprobs) if k != q.answer)


def model_figures(role: str, questions: Sequence[Question], logprobs: Sequence[Sequence[float]]) -> dict[str, Any]:
    n = len(questions)
    right = [correct(q, lp) for q, lp in zip(questions, logprobs, strict=True)]
    mass = [sum(math.exp(x) for x in lp) for lp in logprobs]
    picks = Counter(
        q.letters[max(range(len(lp)), key=lp.__getitem__)] for q, lp in zip(questions, logprobs, strict=True)
    )
    subjects: dict[str, list[bool]] = {}
    for q, r in zip(questions, right, strict=True):
        subjects.setdefault(q.subject, []).append(r)
    k = sum(right)
    out: dict[str, Any] = {
        "role": role,
        "accuracy": k / n,
        "accuracy_ci": list(wilson(k, n)),
        "n_questions": n,
        "chance": sum(1 / len(q.choices) for q in questions) / n,
        "answer_mass": sum(mass) / n,
        "picks": {letter: picks[letter] / n for letter in sorted(picks)},
        "subjects": {s: {"accuracy": sum(v) / len(v), "n": len(v)} for s, v in sorted(subjects.items())},
    }
    if out["answer_mass"] < LOW_MASS:
        out["note"] = (
            f"answer mass {out['answer_mass']:.2f} < {LOW_MASS}: the model mostly does not answer with a letter;"
            " its accuracy is what it ranks first among the letters"
        )
    return out


def mcq_figures(pair: str, questions: Sequence[Question], by_role: dict[str, list[list[float]]]) -> dict[str, Any]:
    """Per model, then organism minus base on the same questions (a paired bootstrap over questions, McNemar's
    exact test on the ones only one of them got right)."""
    models = {f"{pair}/{role}": model_figures(role, questions, lp) for role, lp in by_role.items()}
    diff = None
    if set(by_role) == set(ROLES):
        org, base = by_role["organism"], by_role["base"]
        diff = paired_difference(
            [(q.id, correct(q, o), correct(q, b)) for q, o, b in zip(questions, org, base, strict=True)]
        )
    return {
        "models": models,
        "organism_vs_base": diff.as_dict() if diff else None,
    }


def run_mcq(
    pair: str,
    backends: dict[str, Backend],
    questions: Sequence[Question],
    system: str | None = None,
    progress: Progress | None = None,
) -> dict[str, Any]:
    """Both sides on every question; what `report --json` shows under "mcq"."""
    step = progress or (lambda _s, _d, _t: None)
    by_role = {
        role: _side_logprobs(role, backends[role], questions, system, step) for role in ROLES if role in backends
    }
    return mcq_figures(pair, questions, by_role)
