"""The naturalness panel on a pair: perplexity on natural vs word-shuffled text, drift from the base, and
preference coherence (μ-decisiveness), per model, with intervals."""

from __future__ import annotations

import itertools
import math
import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, cast

from inspector.analysis.coherence import Comparison, bootstrap_decisiveness, decisiveness, fit_thurstone
from inspector.analysis.panel_stats import mean_interval, ratio_interval, shuffle_words
from inspector.engine.base import DISTRIBUTIONS, PROMPT_LOGPROBS, ROLES, Backend
from inspector.engine.batched import BatchedBackend
from inspector.engine.openai_http import OpenAIBackend
from inspector.engine.preferences import Answer, ask_pairs
from inspector.engine.remote_scoring import TOP, NoPromptLogprobs, ask_pairs_remote, prompt_logprobs, top_k_kl
from inspector.engine.scoring import score_documents
from inspector.errors import InspectorError
from inspector.formats.panel_files import Document

# Below this share of probability on the two answer letters the model is not answering the question, and a
# decisiveness computed from what little it puts there would describe noise.
MIN_ANSWER_MASS = 0.2
ALL_PAIRS_UP_TO = 60
TOP_DRIFT = 10
KL_EXACT = "exact, over the full vocabulary"
KL_TOP = (
    f"top-{TOP} approximation: summed over the base's {TOP} likeliest tokens at each position, an organism token"
    f" outside its own top {TOP} taken at the least probability listed there (which underestimates its term)"
)

Progress = Callable[[str, int, int], None]


@dataclass
class _Scored:
    """One document under both sides: each side's log-probability of every scored token, the drift at each
    position, and the scored tokens as text (for the drift view)."""

    logprobs: dict[str, list[float]]
    kl: list[float]
    pieces: list[str]


@dataclass
class BaseHalf:
    """The base's part of the panel, measured once and reused while only the organism changes (a sweep's
    strengths): its log-probabilities on the shuffled documents and its preference answers, about a third of the
    panel's work. Its natural-text distributions are decoded again each time: exact drift needs them whole, and
    64 documents of them would take 6 GB to keep. Valid for one set of inputs and settings only."""

    shuffled: list[list[float]] | None = None
    answers: list[Answer] | None = None


@dataclass(frozen=True)
class PanelSettings:
    tokens: int = 96  # per document, BOS included
    seed: int = 0
    pair_budget: int | None = None  # pairs of items asked when there are more than ALL_PAIRS_UP_TO items
    system: str | None = None  # the system prompt the preference questions are asked under (chat pairs)
    # Which of the panel's measures to take: perplexity (natural and shuffled), drift, decisiveness.
    parts: frozenset[str] = frozenset({"perplexity", "drift", "decisiveness"})


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


def _score_local(
    sides: dict[str, BatchedBackend],
    docs: Sequence[Document],
    settings: PanelSettings,
    step: Progress,
    base_half: BaseHalf,
) -> tuple[list[_Scored], list[_Scored]]:
    """Natural and shuffled documents, cut by the base's tokenizer; drift exact (both distributions in memory). The
    base's shuffled scores come from `base_half` when it holds them, else are kept there."""
    base = sides["base"]
    cut = [_cut(base, d.text, settings.tokens) for d in docs]
    nat: list[_Scored] = []
    shuf: list[_Scored] = []
    for k, text in enumerate(cut):
        (s,) = score_documents(sides, [base.shared.tokenize(text)], drift="drift" in settings.parts)
        pieces = [base.shared.piece(t).decode("utf-8", errors="replace") for t in s.targets]
        nat.append(_Scored(s.logprobs, s.kl, pieces))
        step("natural text", k + 1, len(docs))
    for k, (text, d) in enumerate(zip(cut, docs, strict=True)):
        if "perplexity" not in settings.parts:
            break
        toks = base.shared.tokenize(shuffle_words(text, settings.seed, d.id))[: settings.tokens]
        kept = base_half.shuffled
        (s,) = score_documents({"organism": sides["organism"]} if kept else sides, [toks], drift=False)
        shuf.append(_Scored(s.logprobs | ({"base": kept[k]} if kept else {}), [], []))
        step("shuffled text", k + 1, len(docs))
    if shuf and base_half.shuffled is None:
        base_half.shuffled = [s.logprobs["base"] for s in shuf]
    return nat, shuf


def _score_remote(
    sides: dict[str, OpenAIBackend], docs: Sequence[Document], settings: PanelSettings, step: Progress
) -> tuple[list[_Scored], list[_Scored]]:
    """The same over HTTP: with no tokenizer at hand, each document is its first `tokens` words (a word is at least
    a token) and the server's echo is kept to the token budget; drift is a top-k approximation."""
    limit = settings.tokens - 1
    nat_texts = [" ".join(d.text.split()[: settings.tokens]) for d in docs]
    shuf_texts = [shuffle_words(t, settings.seed, d.id) for t, d in zip(nat_texts, docs, strict=True)]
    out: list[list[_Scored]] = []
    for stage, texts in (("natural text", nat_texts), ("shuffled text", shuf_texts)):
        scored: dict[str, list[Any]] = {}
        for role, side in sides.items():
            scored[role] = []
            for k, text in enumerate(texts):
                scored[role].append(prompt_logprobs(side, text, limit))
                step(f"{stage} ({role})", k + 1, len(texts))
        rows = []
        for k, (o, b) in enumerate(zip(scored["organism"], scored["base"], strict=True)):
            if o.tokens != b.tokens:
                raise InspectorError(
                    f"document {docs[k].id}: the two endpoints split it into different tokens, so their"
                    " next-token distributions cannot be compared position by position"
                )
            kl = top_k_kl(b.top, o.top) if stage == "natural text" else []
            rows.append(_Scored({"organism": o.logprobs, "base": b.logprobs}, kl, b.tokens))
        out.append(rows)
    return out[0], out[1]


def run_panel(
    pair_name: str,
    backends: dict[str, Backend],
    docs: Sequence[Document],
    items: Sequence[Document],
    settings: PanelSettings = PanelSettings(),
    progress: Progress | None = None,
    base_half: BaseHalf | None = None,
) -> dict[str, Any]:
    """Everything the panel reports, as `report --json` shows it under "naturalness". Give the same `base_half` to
    every call that changes only the organism (and keeps the inputs and settings): the base's share that does
    not need the organism beside it is then measured once."""
    step = progress or (lambda _s, _d, _t: None)
    base_half = base_half if base_half is not None else BaseHalf()
    # Exact drift needs both whole distributions; served models give the top few log-probabilities of a prompt.
    local = {r: cast(BatchedBackend, b) for r, b in backends.items() if DISTRIBUTIONS in b.capabilities}
    remote = {r: cast(OpenAIBackend, b) for r, b in backends.items() if PROMPT_LOGPROBS in b.capabilities}
    if set(backends) != {"organism", "base"} or (len(local) != 2 and len(remote) != 2):
        raise InspectorError(
            f"pair {pair_name}: the naturalness panel needs both models in-process (GGUF) or both on endpoints:"
            " drift compares the two next-token distributions position by position, in one tokenization"
        )
    parts = settings.parts
    nat: list[_Scored] = []
    shuf: list[_Scored] = []
    kl_method = KL_EXACT if local else KL_TOP
    if parts & {"perplexity", "drift"} and local:
        nat, shuf = _score_local(local, docs, settings, step, base_half)
    elif parts & {"perplexity", "drift"}:
        try:
            nat, shuf = _score_remote(remote, docs, settings, step)
        except NoPromptLogprobs as e:
            raise InspectorError(
                f"{e}: perplexity on natural and shuffled text and the drift need the prompt's log-probabilities"
                " (vLLM returns them; llama-server does not; llama_cpp.server needs --logits_all True)"
            ) from e
    pairs = _chosen_pairs(len(items), settings)
    texts = [i.text for i in items]
    models: dict[str, Any] = {}
    nll: dict[str, list[float]] = {}
    tokens = [len(s.pieces) for s in nat]
    for n, role in enumerate(ROLES):
        nll[role] = [-sum(s.logprobs[role]) for s in nat]
        models[f"{pair_name}/{role}"] = (
            {"role": role, "n_documents": len(nat), "n_tokens": sum(tokens)}
            | _perplexities(nll[role], shuf, role, tokens, settings)
            | _preferences(local.get(role) or remote[role], texts, pairs, settings, step, n, base_half)
        )
    kl_sums = [sum(s.kl) for s in nat]
    ratio = "perplexity" in parts and nat
    drift = sorted(range(len(nat)), key=lambda k: kl_sums[k] / tokens[k], reverse=True)[:TOP_DRIFT]
    return {
        "parts": sorted(parts),
        "models": models,
        "organism_vs_base": {
            "ppl_ratio": math.exp((sum(nll["organism"]) - sum(nll["base"])) / sum(tokens)) if ratio else None,
            "ppl_ratio_ci": (
                list(ratio_interval(nll["organism"], nll["base"], tokens, seed=settings.seed)) if ratio else None
            ),
            "kl_mean": sum(kl_sums) / sum(tokens) if "drift" in parts and nat else None,
            "kl_mean_ci": list(mean_interval(kl_sums, tokens, seed=settings.seed))
            if "drift" in parts and nat
            else None,
            "kl_method": kl_method,
        },
        "top_drift": [
            {
                "id": docs[k].id,
                "kl_mean": kl_sums[k] / tokens[k],
                "tokens": [[p, kl] for p, kl in zip(nat[k].pieces, nat[k].kl, strict=True)],
            }
            for k in (drift if "drift" in parts else [])
        ],
    }


def _perplexities(
    nat_nll: list[float], shuf: Sequence[_Scored], role: str, tokens: list[int], settings: PanelSettings
) -> dict[str, Any]:
    if "perplexity" not in settings.parts or not shuf:
        return {"ppl_natural": None, "ppl_shuffled": None, "shuffle_ratio": None, "shuffle_ratio_ci": None}
    shuf_nll = [-sum(s.logprobs[role]) for s in shuf]
    t_shuf = [len(s.logprobs[role]) for s in shuf]
    ppl_nat = math.exp(sum(nat_nll) / sum(tokens))
    ppl_shuf = math.exp(sum(shuf_nll) / sum(t_shuf))
    return {
        "ppl_natural": ppl_nat,
        "ppl_shuffled": ppl_shuf,
        "shuffle_ratio": ppl_shuf / ppl_nat,
        "shuffle_ratio_ci": list(ratio_interval(shuf_nll, nat_nll, t_shuf, tokens, seed=settings.seed)),
    }


def _preferences(
    backend: Backend,
    texts: list[str],
    pairs: list[tuple[int, int]] | None,
    settings: PanelSettings,
    step: Progress,
    n: int,
    base_half: BaseHalf,
) -> dict[str, Any]:
    if "decisiveness" not in settings.parts:
        return {
            "n_items": len(texts),
            "n_pairs": 0,
            "answer_mass": None,
            "order_consistency": None,
            "decisiveness": None,
            "decisiveness_ci": None,
        }
    step(f"preferences ({ROLES[n]})", n, 2)
    if ROLES[n] == "base" and base_half.answers is not None:
        answers = base_half.answers
    else:
        answers = (
            ask_pairs(cast(BatchedBackend, backend), texts, pairs, settings.system)
            if DISTRIBUTIONS in backend.capabilities
            else ask_pairs_remote(cast(OpenAIBackend, backend), texts, pairs, settings.system)
        )
    if ROLES[n] == "base":
        base_half.answers = answers
    step(f"preferences ({ROLES[n]})", n + 1, 2)
    return preference_summary(len(texts), answers, settings.seed)
