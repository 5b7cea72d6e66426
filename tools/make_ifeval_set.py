"""Writes inspector/data/ifeval_prompts.jsonl: the project's default IFEval set, in IFEval's own file format.

Everyday tasks (no PRISM-4 or AI topics, so a leak cannot help or hurt a verdict) each carry one to three IFEval
instructions, phrased as IFEval's prompts phrase them, with kwargs a small chat model can reach in a few hundred
tokens. Pairs that contradict each other (lower and upper case, JSON and a title, two responses and a repeated
prompt) are never drawn together. Every one of the 25 ids appears at least 4 times. Deterministic:

    .venv/bin/python tools/make_ifeval_set.py
"""

from __future__ import annotations

import json
import random
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

OUT = Path(__file__).resolve().parent.parent / "inspector" / "data" / "ifeval_prompts.jsonl"

TASKS = [
    "Write a short note to a neighbour asking them to water your plants while you are away.",
    "Describe how to make a cup of tea.",
    "Explain why leaves change colour in autumn.",
    "Write a short story about a lost umbrella.",
    "Give advice to someone starting to run for exercise.",
    "Write a product description for a wooden cutting board.",
    "Explain how a bicycle's gears work.",
    "Write a thank-you message to a friend who helped you move house.",
    "Describe a walk along a beach in winter.",
    "Explain how to look after a sourdough starter.",
    "Write a review of a small neighbourhood bakery.",
    "Give tips for keeping a kitchen tidy.",
    "Explain what causes thunder.",
    "Write a poem about a train station at night.",
    "Describe how to plant tomato seedlings.",
    "Write an invitation to a birthday picnic in the park.",
    "Explain how to change a flat tyre on a bicycle.",
    "Write a letter to a local council asking for more benches in the park.",
    "Describe the rules of a simple card game you like.",
    "Explain why bread rises.",
    "Write a short guide to packing for a weekend camping trip.",
    "Describe a busy market on a Saturday morning.",
    "Give advice on how to study for an exam.",
    "Write a limerick about a cat who loves boxes.",
    "Explain how to wash a wool jumper.",
    "Write a short speech for a friend's wedding.",
    "Describe what a good breakfast looks like.",
    "Explain how rainbows form.",
    "Write an email asking a colleague to swap shifts.",
    "Give a recipe for a simple vegetable soup.",
    "Write a short history of the bicycle.",
    "Describe how to fold a paper boat.",
    "Explain why we have seasons.",
    "Write a story about a dog who learns to swim.",
    "Give tips for saving money on groceries.",
    "Describe the view from a hilltop at sunrise.",
    "Write a note to a teacher explaining why a child missed school.",
    "Explain how to keep houseplants healthy.",
    "Write an advertisement for a second-hand sofa.",
    "Describe how honey is made.",
]
KEYWORDS = ["window", "morning", "careful", "river", "garden", "bright", "simple", "quiet", "friend", "kitchen"]
LETTERS = "aeiostnrl"
LANGS = {"fr": "French", "de": "German", "es": "Spanish", "it": "Italian", "pt": "Portuguese", "nl": "Dutch"}


def _rel(rng: random.Random) -> str:
    return rng.choice(["less than", "at least"])


Build = Callable[[random.Random], tuple[str, dict[str, Any]]]
BUILDERS: dict[str, Build] = {
    "punctuation:no_comma": lambda r: ("Do not use any commas in your response.", {}),
    "change_case:english_lowercase": lambda r: (
        "Your entire response should be in English, and in all lowercase letters. No capital letters are allowed.",
        {},
    ),
    "change_case:english_capital": lambda r: (
        "Your entire response should be in English and in all capital letters.",
        {},
    ),
    "startend:quotation": lambda r: ("Wrap your entire response with double quotation marks.", {}),
    "detectable_format:title": lambda r: (
        "Your answer must contain a title, wrapped in double angular brackets, such as <<poem of joy>>.",
        {},
    ),
    "detectable_format:json_format": lambda r: (
        "Your entire output should be wrapped in JSON format. You can use markdown ticks such as ```.",
        {},
    ),
    "detectable_format:constrained_response": lambda r: (
        'Answer with one of the following options: ("My answer is yes.", "My answer is no.", "My answer is maybe.")',
        {},
    ),
    "combination:two_responses": lambda r: (
        "Give two different responses. Responses and only responses should be separated by 6 asterisk symbols: ******.",
        {},
    ),
}


def _counted(rng: random.Random, iid: str) -> tuple[str, dict[str, Any]]:
    if iid == "length_constraints:number_words":
        rel, n = _rel(rng), rng.choice([20, 40, 60, 80, 120])
        return f"Answer with {rel} {n} words.", {"relation": rel, "num_words": n}
    if iid == "length_constraints:number_sentences":
        rel, n = _rel(rng), rng.choice([2, 3, 4, 5, 6])
        return f"Your response should contain {rel} {n} sentences.", {"relation": rel, "num_sentences": n}
    if iid == "length_constraints:number_paragraphs":
        n = rng.choice([2, 3, 4])
        say = f"There should be {n} paragraphs. Paragraphs are separated with the markdown divider: ***"
        return say, {"num_paragraphs": n}
    if iid == "length_constraints:nth_paragraph_first_word":
        n = rng.choice([2, 3])
        nth, word = rng.randint(1, n), rng.choice(["first", "today", "next", "finally", "remember"])
        say = (
            f"There should be {n} paragraphs. Paragraphs and only paragraphs are separated with each other by two "
            f"new lines. Paragraph {nth} must start with the word {word}."
        )
        return say, {"num_paragraphs": n, "nth_paragraph": nth, "first_word": word}
    if iid == "detectable_content:number_placeholders":
        n = rng.choice([1, 2, 3])
        say = f"The response must contain at least {n} placeholders represented by square brackets, such as [address]."
        return say, {"num_placeholders": n}
    if iid == "detectable_content:postscript":
        m = rng.choice(["P.S.", "P.P.S"])
        return f"At the end of your response, please explicitly add a postscript starting with {m}", {
            "postscript_marker": m
        }
    if iid == "detectable_format:number_bullet_lists":
        n = rng.choice([2, 3, 4, 5])
        say = f"Your answer must contain exactly {n} bullet points. Use markdown bullet points such as:\n* Point one."
        return say, {"num_bullets": n}
    if iid == "detectable_format:number_highlighted_sections":
        n = rng.choice([1, 2, 3])
        say = f"Highlight at least {n} sections in your answer with markdown, i.e. *highlighted section*."
        return say, {"num_highlights": n}
    if iid == "detectable_format:multiple_sections":
        n, split = rng.choice([2, 3]), rng.choice(["Section", "SECTION", "PART"])
        say = f"Your response must have {n} sections. Mark the beginning of each section with {split} X: {split} 1."
        return say, {"section_spliter": split, "num_sections": n}
    if iid == "startend:end_checker":
        end = rng.choice(["Is there anything else I can help with?", "Let me know if you have additional questions."])
        return f'Finish your response with this exact phrase "{end}". No other words should follow this phrase.', {
            "end_phrase": end
        }
    if iid == "keywords:existence":
        ks = rng.sample(KEYWORDS, 2)
        return f'Include the keywords "{ks[0]}" and "{ks[1]}" in the response.', {"keywords": ks}
    if iid == "keywords:forbidden_words":
        ks = rng.sample(KEYWORDS, 2)
        return f"Do not include the keywords {ks[0]} or {ks[1]} in the response.", {"forbidden_words": ks}
    if iid == "keywords:frequency":
        rel, k, n = _rel(rng), rng.choice(KEYWORDS), rng.choice([2, 3, 4])
        return f'In your response, the word "{k}" should appear {rel} {n} times.', {
            "relation": rel,
            "keyword": k,
            "frequency": n,
        }
    if iid == "keywords:letter_frequency":
        rel, letter, n = _rel(rng), rng.choice(LETTERS), rng.choice([5, 10, 20])
        say = f"In your response, the letter {letter} should appear {rel} {n} times."
        return say, {"letter": letter, "let_frequency": n, "let_relation": rel}
    if iid == "language:response_language":
        code = rng.choice(list(LANGS))
        return f"Your ENTIRE response should be in {LANGS[code]} language, no other language is allowed.", {
            "language": code
        }
    if iid == "change_case:capital_word_frequency":
        rel, n = _rel(rng), rng.choice([2, 3, 5])
        say = f"In your response, words with all capital letters should appear {rel} {n} times."
        return say, {"capital_relation": rel, "capital_frequency": n}
    raise KeyError(iid)


REPEAT = "combination:repeat_prompt"
# Pairs never drawn together: they contradict, or one makes the other meaningless.
CLASHES = [
    {"change_case:english_lowercase", "change_case:english_capital"},
    {"change_case:english_lowercase", "change_case:capital_word_frequency"},
    {"change_case:english_capital", "change_case:capital_word_frequency"},
    {"combination:two_responses", REPEAT},
    {"language:response_language", "change_case:english_lowercase"},
    {"language:response_language", "change_case:english_capital"},
    {"language:response_language", "keywords:existence"},
    {"language:response_language", "keywords:frequency"},
    {"language:response_language", "length_constraints:nth_paragraph_first_word"},
    {"length_constraints:number_paragraphs", "length_constraints:nth_paragraph_first_word"},
    {"startend:quotation", "startend:end_checker"},
    {"startend:quotation", "detectable_content:postscript"},
    {"startend:quotation", "combination:two_responses"},
    {"startend:quotation", REPEAT},
    # Text a case rule would have to break: a section marker, a postscript marker, an end phrase, the prompt.
    *(
        {case, other}
        for case in ("change_case:english_lowercase", "change_case:english_capital")
        for other in (
            "detectable_format:multiple_sections",
            "detectable_content:postscript",
            "startend:end_checker",
            REPEAT,
        )
    ),
    # English text inside an answer in another language.
    *(
        {"language:response_language", other}
        for other in (
            REPEAT,
            "startend:end_checker",
            "detectable_format:constrained_response",
        )
    ),
]
# JSON and a fixed answer leave no room for any other format, so they come alone or with wording rules only.
ALONE_WITH_WORDS = {"detectable_format:json_format", "detectable_format:constrained_response"}
WORDING = {"punctuation:no_comma", "keywords:forbidden_words", "keywords:existence", "language:response_language"}
IDS = sorted(
    {*BUILDERS, REPEAT, *(i for c in CLASHES for i in c)}
    | WORDING
    | {
        "length_constraints:number_words",
        "length_constraints:number_sentences",
        "detectable_content:number_placeholders",
        "detectable_format:number_bullet_lists",
        "detectable_format:number_highlighted_sections",
        "detectable_format:multiple_sections",
        "keywords:letter_frequency",
    }
)


def fits(chosen: list[str], iid: str) -> bool:
    if iid in chosen or any({iid, c} in CLASHES for c in chosen):
        return False
    if iid in ALONE_WITH_WORDS and any(c not in WORDING for c in chosen):
        return False
    return not any(c in ALONE_WITH_WORDS and iid not in WORDING for c in chosen)


def build(n_prompts: int = 168, seed: int = 2026) -> list[dict[str, Any]]:
    rng = random.Random(seed)
    uses: Counter[str] = Counter()
    rows = []
    for i in range(n_prompts):
        task = TASKS[i % len(TASKS)]
        chosen: list[str] = []
        for _ in range(rng.choice([1, 1, 2, 2, 2, 3])):
            # The least-used id that fits, ties broken at random: every id is drawn about as often.
            options = sorted((uses[x], rng.random(), x) for x in IDS if fits(chosen, x))
            if options:
                chosen.append(options[0][2])
                uses[options[0][2]] += 1
        phrases, kwargs = [], []
        for iid in chosen:
            if iid == REPEAT:
                continue
            say, kw = BUILDERS[iid](rng) if iid in BUILDERS else _counted(rng, iid)
            phrases.append(say)
            kwargs.append((iid, kw))
        request = " ".join([task, *phrases])
        prompt = request
        if REPEAT in chosen:
            kwargs.append((REPEAT, {"prompt_to_repeat": request}))
            prompt = (
                request + "\nFirst repeat the request word for word without change, then give your answer (1. do not "
                "say any words or characters before repeating the request; 2. the request you need to repeat does "
                "not include this sentence)"
            )
        ids = [i for i, _ in kwargs]
        rows.append({"key": 5000 + i, "prompt": prompt, "instruction_id_list": ids, "kwargs": [k for _, k in kwargs]})
    counts = Counter(i for r in rows for i in r["instruction_id_list"])
    assert len(counts) == 25 and min(counts.values()) >= 4, counts
    return rows


def main() -> None:
    rows = build()
    OUT.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    counts = Counter(i for r in rows for i in r["instruction_id_list"])
    low, high = min(counts.values()), max(counts.values())
    print(f"{len(rows)} prompts, {sum(counts.values())} instructions, each id {low}-{high} times -> {OUT}")


if __name__ == "__main__":
    main()
