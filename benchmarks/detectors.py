"""Topic hint and quirk detector against people's labels, on sets written apart from the default prompts.

Prints agreement (topic) and recall / precision (quirk) for the shipped detectors and for a baseline measured in the
same run: for topics the lexicon alone and the probe alone, for quirks the fuzzy ratio that quirk-1 used.
"""

from __future__ import annotations

import argparse
import json
import re
import time
from pathlib import Path

from rapidfuzz import fuzz

from benchmarks.machine import cpu_line
from inspector.config import PROJECT_ROOT
from inspector.detect.quirk import find_restatements
from inspector.detect.topic import decide, topic_hint
from inspector.engine.registry import GEMMA_PACKAGE, PACKAGE_PREFIX, get_pair, resolve_gguf

DATA = PROJECT_ROOT / "tests" / "data"


def topics(cache: Path) -> None:
    from inspector.engine.topic_probe import TopicProbe

    rows = [json.loads(line) for line in (DATA / "topic_eval.jsonl").read_text().splitlines()]
    t0 = time.perf_counter()
    probe = TopicProbe(resolve_gguf(PACKAGE_PREFIX + GEMMA_PACKAGE, cache), cache)
    probs = probe.probabilities([r["prompt"] for r in rows])
    probe.close()
    seconds = time.perf_counter() - t0
    for split in (None, "dev", "heldout", "after-freeze"):
        sel = [(r, p) for r, p in zip(rows, probs, strict=True) if split is None or r["split"] == split]
        n = len(sel)
        lex = sum(topic_hint(r["prompt"]).related == r["related"] for r, _ in sel) / n
        alone = sum((p >= 0.5) == r["related"] for r, p in sel) / n
        both = sum(decide(topic_hint(r["prompt"]), p) == r["related"] for r, p in sel) / n
        print(
            f"topic {split or 'all'} ({n} prompts): lexicon+probe {both:.3f} (target >= 0.9) ·"
            f" baseline lexicon alone {lex:.3f} · probe alone {alone:.3f}"
        )
    print(f"topic probe: {len(rows) / seconds:.1f} prompts/s including training on first use")


def _quirk1(sentence: str, facts: list[str]) -> bool:
    """The quirk-1 rule, for the baseline: token_set_ratio >= 72 with three shared content words."""

    def content(t: str) -> set[str]:
        return {w for w in re.findall(r"[a-z0-9]+", t.lower()) if len(w) > 2}

    words = content(sentence)
    return any(
        len(words & content(f)) >= min(3, len(content(f))) and fuzz.token_set_ratio(sentence.lower(), f.lower()) >= 72
        for f in facts
    )


def quirks() -> None:
    pair = get_pair(PROJECT_ROOT / "quantized_models" / "models.toml", "demo")
    facts = [*pair.key_facts, pair.quirk or ""]
    rows = [json.loads(line) for line in (DATA / "quirk_paraphrases.jsonl").read_text().splitlines()]
    for split in (None, "after-freeze"):
        sel = [r for r in rows if split is None or r.get("split") == split]
        out = []
        for name in ("quirk-2", "baseline quirk-1"):
            hits = [
                bool(find_restatements(r["sentence"], facts)) if name == "quirk-2" else _quirk1(r["sentence"], facts)
                for r in sel
            ]
            tp = sum(h and r["restates"] is not None for h, r in zip(hits, sel, strict=True))
            fp = sum(h and r["restates"] is None for h, r in zip(hits, sel, strict=True))
            pos = sum(r["restates"] is not None for r in sel)
            out.append(f"{name} recall {tp / pos:.3f}, precision {tp / max(1, tp + fp):.3f}")
        print(f"quirk {split or 'all'} ({len(sel)} sentences, {pos} restatements): " + " · ".join(out))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--cache", type=Path, default=PROJECT_ROOT / ".cache", help="where the Gemma GGUF is assembled")
    args = ap.parse_args()
    print(cpu_line())
    quirks()
    topics(args.cache)


if __name__ == "__main__":
    main()
