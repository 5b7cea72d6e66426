"""Strict and loose verdicts for one response, per instruction and for the prompt, as IFEval defines them."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from inspector.analysis.ifeval.args import Args
from inspector.analysis.ifeval.registry import INSTRUCTIONS


@dataclass(frozen=True)
class Verdict:
    instruction_id: str
    strict: bool
    loose: bool


@dataclass(frozen=True)
class Scored:
    strict: bool
    loose: bool
    instructions: tuple[Verdict, ...]


def loose_variants(response: str) -> list[str]:
    """The response, then without its first line, its last, or both, each also with every `*` removed: loose
    passes where any of them passes (a preamble such as "Sure, here it is:" or a sign-off is forgiven)."""
    lines = response.split("\n")
    cut = [response, "\n".join(lines[1:]).strip(), "\n".join(lines[:-1]).strip(), "\n".join(lines[1:-1]).strip()]
    return cut + [c.replace("*", "") for c in cut]


def score(response: str, instructions: Sequence[tuple[str, Args]]) -> Scored:
    variants = [v for v in dict.fromkeys(loose_variants(response)) if v.strip()]
    verdicts = []
    for instruction_id, args in instructions:
        check = INSTRUCTIONS[instruction_id].check
        strict = bool(response.strip()) and check(response, args)
        loose = strict or any(check(v, args) for v in variants if v != response)
        verdicts.append(Verdict(instruction_id, strict, loose))
    return Scored(all(v.strict for v in verdicts), all(v.loose for v in verdicts), tuple(verdicts))
