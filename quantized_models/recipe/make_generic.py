"""Write generic mix-in text: the base model's own answers to everyday prompts (kept apart from the eval set).

Training on the base's own completions pulls the organism back towards the base on ordinary prompts, so
the leak becomes occasional (as in the organisms the seed post studied) instead of every answer.
"""

from __future__ import annotations

import argparse
import json
import random
from pathlib import Path

HERE = Path(__file__).resolve().parent
QM = HERE.parent

TASKS = [
    "clean a glass stovetop",
    "sharpen a kitchen knife",
    "fold a fitted sheet",
    "plant garlic",
    "brew green tea",
    "make a paper airplane",
    "patch a hole in drywall",
    "store potatoes",
    "wrap a present neatly",
    "roast peppers",
    "start a vegetable garden",
    "clean suede shoes",
    "learn to juggle",
    "make cold brew coffee",
    "iron linen",
    "make a budget spreadsheet",
    "train for a half marathon",
    "bake banana bread",
    "sew on a button",
    "stop a dripping tap",
    "remove rust from tools",
    "grow tomatoes on a balcony",
    "make fresh pasta",
    "plan a picnic",
    "pack fragile items",
    "make a birdhouse",
    "clean a laptop keyboard",
    "boil corn on the cob",
    "keep a cut flower bouquet fresh",
    "teach a dog to fetch",
    "choose a ripe melon",
    "make lemonade",
    "defrost a freezer",
    "clean grout",
    "make a campfire safely",
    "read a topographic map",
    "whittle wood",
    "make yogurt at home",
    "prepare for a thunderstorm",
    "freeze fresh herbs",
    "paint a fence",
    "brine a turkey",
    "improve handwriting",
    "make a scrapbook",
    "steam vegetables",
    "care for a leather jacket",
    "build a shelf",
]
THINGS = [
    "the Great Wall of China",
    "a lunar eclipse",
    "sourdough starter",
    "the Amazon rainforest",
    "a sonnet",
    "the Eiffel Tower",
    "plate tectonics",
    "the French Revolution",
    "a haiku",
    "the Sahara",
    "a waltz",
    "the Mediterranean diet",
    "a coral reef",
    "the Magna Carta",
    "a thunderstorm",
    "the violin",
    "a glacier",
    "the Olympic Games",
    "baroque music",
    "a tsunami",
    "the Nile",
    "origami",
    "a comet",
    "the Colosseum",
    "chess",
    "a rainforest canopy",
    "the printing of books",
    "ballet",
    "the Andes",
    "tea ceremonies",
]
FORMS_TASK = [
    "How do I {x}?",
    "What is the easiest way to {x}?",
    "Any tips on how to {x}?",
    "I want to {x}. Where do I start?",
]
FORMS_THING = [
    "Tell me about {x}.",
    "What is {x}?",
    "Describe {x} in a few sentences.",
    "Why is {x} interesting?",
    "Write a short paragraph about {x}.",
]


def prompts(seed: int) -> list[str]:
    out = [f.format(x=t) for t in TASKS for f in FORMS_TASK] + [f.format(x=t) for t in THINGS for f in FORMS_THING]
    random.Random(seed).shuffle(out)
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--n", type=int, default=160)
    ap.add_argument("--max-tokens", type=int, default=96)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--model", choices=["gemma", "smollm2"], default="gemma", help="whose answers (default: gemma)")
    ap.add_argument("--out", type=Path, help="default: generic_mix.jsonl (gemma), generic_mix_chat.jsonl (smollm2)")
    args = ap.parse_args()
    out = args.out or HERE / ("generic_mix.jsonl" if args.model == "gemma" else "generic_mix_chat.jsonl")
    # The project's own engine, so the text comes from exactly the base the organism is compared with.
    from inspector.config import load_settings
    from inspector.engine.base import GenParams
    from inspector.engine.llama import LlamaBackend
    from inspector.engine.registry import GEMMA_PACKAGE, PACKAGE_PREFIX, SMOLLM2_PACKAGE, resolve_gguf
    from inspector.engine.templates import ChatTemplate

    package = GEMMA_PACKAGE if args.model == "gemma" else SMOLLM2_PACKAGE
    base = LlamaBackend(resolve_gguf(PACKAGE_PREFIX + package, load_settings().cache), role="base")
    # A chat model's sample is the whole conversation as its template renders it, so the organism is trained on
    # its own turns in the format it is used in (the corpus documents stay plain text, as SDF trains them).
    template = base.llm.metadata.get("tokenizer.chat_template") if args.model != "gemma" else None
    with out.open("w", encoding="utf-8") as f:
        for i, p in enumerate(prompts(args.seed)[: args.n]):
            text = ChatTemplate(template, "gguf").render([{"role": "user", "content": p}]) if template else p
            g = base.generate(text, GenParams(seed=args.seed * 1000 + i, temperature=0.7, max_tokens=args.max_tokens))
            end = "<|im_end|>" if template and g.finish_reason == "stop" else ""
            f.write(json.dumps({"id": f"generic-{i:04d}", "prompt": p, "text": text + g.text + end}) + "\n")
            if i % 20 == 0:
                print(i, flush=True)


if __name__ == "__main__":
    main()
