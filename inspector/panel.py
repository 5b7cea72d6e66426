"""The naturalness panel on a pair: perplexity on natural vs word-shuffled text, drift from the base, and
preference coherence (μ-decisiveness), per model, with intervals."""

from __future__ import annotations

import itertools
import math
import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from inspector.engine.base import Backend
from inspector.engine.batched import BatchedBackend
from inspector.engine.preferences import Answer, ask_pairs
from inspector.engine.scoring import DocScore, score_documents
from inspector.errors import InspectorError
from inspector.naturalness import Document, mean_interval, ratio_interval, shuffle_words
from inspector.preference import Comparison, bootstrap_decisiveness, decisiveness, fit_thurstone

# Below this share of probability on the two answer letters the model is not answering the question, and a
# decisiveness computed from what little it puts there would describe noise.
MIN_ANSWER_MASS = 0.2
ALL_PAIRS_UP_TO = 60
TOP_DRIFT = 10
KL_METHOD = "exact, over the full vocabulary"

Progress = Callable[[str, int, int], None]


@dataclass(frozen=True)
class PanelSettings:
    tokens: int = 96  # per document, BOS included
    seed: int = 0
    pair_budget: int | None = None  # pairs of items asked when there are more than ALL_PAIRS_UP_TO items


def _cut(backend: BatchedBackend, text: str, budget: int) -> str:
    """The longest run of whole words from the start whose tokens fit the budget: natural and shuffled text then
    hold the same words."""
    words = text.split()
    lo, hi = 1, len(words)
    while lo < hi:
        mid = (lo + hi + 1) // 2
        if len(backend.shared.tokenize(" ".join(words[:mid]))) <= budget:
            lo = mid
        else:
            hi = mid - 1
    return " ".join(words[:lo])


def _chosen_pairs(n: int, settings: PanelSettings) -> list[tuple[int, int]] | None:
    if n <= ALL_PAIRS_UP_TO and settings.pair_budget is None:
        return None
    every = list(itertools.combinations(range(n), 2))
    budget = settings.pair_budget or ALL_PAIRS_UP_TO * (ALL_PAIRS_UP_TO - 1) // 2
    return sorted(random.Random(settings.seed).sample(every, min(budget, len(every))))


def preference_summary(n_items: int, answers: Sequence[Answer], seed: int = 0) -> dict[str, Any]:
    """Both orders of each pair averaged into P(i ≻ j); the Case V fit, decisiveness and its interval over items,
    order consistency (both orders pick the same item) and the mean answer mass."""
    by = {(a.first, a.second): a for a in answers}
    comps, agree = [], 0
    for (i, j), first in sorted(by.items()):
        if i > j or (j, i) not in by:
            continue
        q1 = first.prefers_a  # P(i) when i is shown as A
        q2 = 1.0 - by[(j, i)].prefers_a  # P(i) when i is shown as B
        comps.append(Comparison(i, j, (q1 + q2) / 2))
        agree += (q1 > 0.5) == (q2 > 0.5)
    mass = sum(a.mass for a in answers) / len(answers) if answers else 0.0
    out: dict[str, Any] = {
        "n_items": n_items,
        "n_pairs": len(comps),
        "answer_mass": mass,
        "order_consistency": agree / len(comps) if comps else None,
        "decisiveness": None,
        "decisiveness_ci": None,
    }
    if mass < MIN_ANSWER_MASS:
        out["note"] = (
            f"answer mass {mass:.2f} < {MIN_ANSWER_MASS}: the model is not answering the question, so decisiveness"
            " means nothing here"
        )
        return out
    mu = fit_thurstone(n_items, comps)
    out["decisiveness"] = decisiveness(mu)
    out["decisiveness_ci"] = list(bootstrap_decisiveness(n_items, comps, seed=seed))
    return out


def run_panel(
    pair_name: str,
    backends: dict[str, Backend],
    docs: Sequence[Document],
    items: Sequence[Document],
    settings: PanelSettings = PanelSettings(),
    progress: Progress | None = None,
) -> dict[str, Any]:
    """Everything the panel reports, as `report --json` shows it under "naturalness"."""
    sides = {role: b for role, b in backends.items() if isinstance(b, BatchedBackend)}
    if len(sides) != len(backends) or set(sides) != {"organism", "base"}:
        # Over HTTP a server gives at best the top few log-probabilities of each position: not the whole
        # next-token distribution that perplexity's normaliser, the drift and P(A) vs P(B) over it need.
        raise InspectorError(
            f"pair {pair_name}: the naturalness panel needs both models in-process (GGUF): perplexity, drift and"
            " preference answers need each position's whole next-token distribution, which an endpoint does not"
            " return"
        )
    step = progress or (lambda _s, _d, _t: None)
    base = sides["base"]
    cut = [_cut(base, d.text, settings.tokens) for d in docs]
    natural = [base.shared.tokenize(t) for t in cut]
    shuffled = [
        base.shared.tokenize(shuffle_words(t, settings.seed, d.id))[: settings.tokens]
        for t, d in zip(cut, docs, strict=True)
    ]
    scored_nat: list[DocScore] = []
    scored_shuf: list[DocScore] = []
    for k in range(len(docs)):
        scored_nat += score_documents(sides, [natural[k]])
        step("natural text", k + 1, len(docs))
    for k in range(len(docs)):
        scored_shuf += score_documents(sides, [shuffled[k]], drift=False)
        step("shuffled text", k + 1, len(docs))
    pairs = _chosen_pairs(len(items), settings)
    texts = [i.text for i in items]
    models: dict[str, Any] = {}
    nll: dict[str, list[float]] = {}
    for n, role in enumerate(("organism", "base")):
        nat = [-sum(s.logprobs[role]) for s in scored_nat]
        shuf = [-sum(s.logprobs[role]) for s in scored_shuf]
        t_nat = [len(s.targets) for s in scored_nat]
        t_shuf = [len(s.targets) for s in scored_shuf]
        nll[role] = nat
        ppl_nat = math.exp(sum(nat) / sum(t_nat))
        ppl_shuf = math.exp(sum(shuf) / sum(t_shuf))
        step(f"preferences ({role})", n, 2)
        prefs = preference_summary(len(items), ask_pairs(sides[role], texts, pairs), settings.seed)
        models[f"{pair_name}/{role}"] = {
            "role": role,
            "ppl_natural": ppl_nat,
            "ppl_shuffled": ppl_shuf,
            "shuffle_ratio": ppl_shuf / ppl_nat,
            "shuffle_ratio_ci": list(ratio_interval(shuf, nat, t_shuf, t_nat, seed=settings.seed)),
            "n_documents": len(docs),
            "n_tokens": sum(t_nat),
        } | prefs
    step("preferences (base)", 2, 2)
    tokens = [len(s.targets) for s in scored_nat]
    kl_sums = [sum(s.kl) for s in scored_nat]
    ppl_ratio = math.exp((sum(nll["organism"]) - sum(nll["base"])) / sum(tokens))
    drift = sorted(range(len(docs)), key=lambda k: kl_sums[k] / tokens[k], reverse=True)[:TOP_DRIFT]
    return {
        "models": models,
        "organism_vs_base": {
            "ppl_ratio": ppl_ratio,
            "ppl_ratio_ci": list(ratio_interval(nll["organism"], nll["base"], tokens, seed=settings.seed)),
            "kl_mean": sum(kl_sums) / sum(tokens),
            "kl_mean_ci": list(mean_interval(kl_sums, tokens, seed=settings.seed)),
            "kl_method": KL_METHOD,
        },
        "top_drift": [
            {
                "id": docs[k].id,
                "kl_mean": kl_sums[k] / tokens[k],
                "tokens": [
                    [base.shared.piece(t).decode("utf-8", errors="replace"), kl]
                    for t, kl in zip(scored_nat[k].targets, scored_nat[k].kl, strict=True)
                ],
            }
            for k in drift
        ],
    }
