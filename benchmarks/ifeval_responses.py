"""Response generators for measuring the IFEval scorer against the reference: written before the scorer, frozen.

Two generators, each writing `{"key", "prompt", "response"}` lines for every prompt of an IFEval input file:
- `boundary` builds each response from the prompt's own instructions and kwargs, landing just inside or just
  outside each limit (a word count of n-1, n, n+1; a keyword once too few; a title with or without brackets).
- `wild` is built to break a scorer's assumptions the first one shares: chat preambles and sign-offs, markdown
  fences, CRLF line ends, unicode look-alikes (full-width commas, curly quotes, non-breaking spaces), abbreviations
  and decimals inside sentences, mixed scripts, empty and whitespace-only answers, and instructions of other
  prompts answered instead.
Agreement with the reference is reported per generator; neither was tuned on the scorer's verdicts.
"""

from __future__ import annotations

import argparse
import json
import random
from collections.abc import Callable
from pathlib import Path
from typing import Any

WORDS = [
    "river",
    "stone",
    "light",
    "garden",
    "window",
    "paper",
    "morning",
    "coffee",
    "bridge",
    "market",
    "letter",
    "silver",
    "orange",
    "winter",
    "forest",
    "engine",
    "signal",
    "quiet",
    "bright",
    "simple",
    "careful",
    "honest",
    "gentle",
    "rapid",
    "narrow",
]
HARD_WORDS = ["well-known", "don't", "U.S.", "3.14", "e-mail", "naïve", "co-op", "it's", "1,000", "x86_64"]
SENTENCE_TRAPS = [
    "Dr. Smith arrived at 5 p.m. and left early.",
    "The price rose 3.5 percent, e.g. in Jan. and Feb.",
    "Wait... what happened next?",
    'He said "Stop!" and ran.',
    "Is it true?! Nobody knows.",
    "See Fig. 2 for details.",
    "Mr. and Mrs. Jones live on St. James St. now.",
]
LANG_SAMPLES = {
    "en": "The weather is pleasant today and we will walk to the market together after lunch.",
    "fr": "Le temps est agréable aujourd'hui et nous irons au marché ensemble après le déjeuner.",
    "de": "Das Wetter ist heute angenehm und wir gehen nach dem Mittagessen zusammen zum Markt.",
    "es": "El clima es agradable hoy y caminaremos juntos al mercado después del almuerzo.",
    "it": "Il tempo è piacevole oggi e andremo insieme al mercato dopo pranzo.",
    "hi": "आज मौसम सुहावना है और हम दोपहर के भोजन के बाद साथ में बाजार जाएंगे।",
    "ru": "Сегодня приятная погода, и после обеда мы вместе пойдём на рынок.",
    "ja": "今日は天気が良いので、昼食の後に一緒に市場へ歩いて行きます。",
    "kn": "ಇಂದು ಹವಾಮಾನ ಆಹ್ಲಾದಕರವಾಗಿದೆ ಮತ್ತು ನಾವು ಊಟದ ನಂತರ ಒಟ್ಟಿಗೆ ಮಾರುಕಟ್ಟೆಗೆ ಹೋಗುತ್ತೇವೆ.",
    "ar": "الطقس لطيف اليوم وسنذهب معا إلى السوق بعد الغداء.",
}
CONSTRAINED = ["My answer is yes.", "My answer is no.", "My answer is maybe.", "My answer is yes", "Yes."]


def words(rng: random.Random, n: int, hard: bool = False) -> str:
    pool = WORDS + (HARD_WORDS if hard else [])
    return " ".join(rng.choice(pool) for _ in range(max(n, 0)))


def sentences(rng: random.Random, n: int, hard: bool = False) -> str:
    out = []
    for _ in range(max(n, 0)):
        if hard and rng.random() < 0.4:
            out.append(rng.choice(SENTENCE_TRAPS))
        else:
            out.append(words(rng, rng.randint(3, 9)).capitalize() + rng.choice([".", ".", "!", "?"]))
    return " ".join(out)


def near(rng: random.Random, n: int) -> int:
    return max(0, n + rng.choice([-1, 0, 0, 1]))


# One piece of text per instruction id, aimed at the limit its kwargs set; `hard` adds the wild generator's traps.
def piece(rng: random.Random, iid: str, kw: dict[str, Any], hard: bool) -> str:
    rel_less = kw.get("relation") == "less than"
    if iid == "length_constraints:number_words":
        return words(rng, near(rng, int(kw["num_words"]) - (1 if rel_less else 0)), hard)
    if iid == "length_constraints:number_sentences":
        return sentences(rng, near(rng, int(kw["num_sentences"]) - (1 if rel_less else 0)), hard)
    if iid == "length_constraints:number_paragraphs":
        sep = rng.choice(["\n\n***\n\n", "\n***\n", "\n\n* * *\n\n", "***"]) if hard else "\n\n***\n\n"
        paras = [sentences(rng, 2, hard) for _ in range(near(rng, int(kw["num_paragraphs"])))]
        if hard and rng.random() < 0.2:
            paras.append("")
        return sep.join(paras)
    if iid == "length_constraints:nth_paragraph_first_word":
        n, nth = int(kw["num_paragraphs"]), int(kw["nth_paragraph"])
        first = str(kw["first_word"])
        paras = [sentences(rng, 2) for _ in range(near(rng, n))]
        if 0 < nth <= len(paras) and rng.random() < 0.7:
            lead = rng.choice(
                [first, first.capitalize(), f'"{first}",', f"**{first}**", first + "s"] if hard else [first]
            )
            paras[nth - 1] = lead + " " + paras[nth - 1]
        return (rng.choice(["\n\n", "\n\n\n", "\n \n"]) if hard else "\n\n").join(paras)
    if iid == "detectable_content:number_placeholders":
        marks = ["[name]", "[address]", "[ date ]", "[]", "[[x]]", "[a b]"] if hard else ["[name]", "[address]"]
        return " ".join(words(rng, 2) + " " + rng.choice(marks) for _ in range(near(rng, int(kw["num_placeholders"]))))
    if iid == "detectable_content:postscript":
        marker = str(kw["postscript_marker"])
        variants = [marker, marker.lower(), marker.replace(".", ""), "P. S.", "p.s."] if hard else [marker]
        return "\n\n" + rng.choice(variants) + " " + words(rng, 5) if rng.random() < 0.8 else ""
    if iid == "detectable_format:number_bullet_lists":
        bullets = ["* ", "- "] + (["*  ", "-\t", "** ", "• ", "1. "] if hard else [])
        return "\n".join(rng.choice(bullets) + words(rng, 4) for _ in range(near(rng, int(kw["num_bullets"]))))
    if iid == "detectable_format:number_highlighted_sections":
        forms = ["*{}*", "**{}**"] + (["* {} *", "*{}", "** **", "***{}***", "*\n{}*"] if hard else [])
        return " ".join(rng.choice(forms).format(words(rng, 2)) for _ in range(near(rng, int(kw["num_highlights"]))))
    if iid == "detectable_format:multiple_sections":
        split = str(kw["section_spliter"])
        heads = [split, split.upper(), split.lower(), "#" + split] if hard else [split]
        n = near(rng, int(kw["num_sections"]))
        return "\n".join(f"{rng.choice(heads)} {i + 1}\n{sentences(rng, 1)}" for i in range(n))
    if iid == "detectable_format:title":
        forms = ["<<{}>>"] + (["<< {} >>", "<<>>", "<{}>", "<<{}\n>>"] if hard else [])
        return rng.choice(forms).format(words(rng, 2).title()) + "\n" if rng.random() < 0.8 else ""
    if iid == "detectable_format:json_format":
        body = json.dumps({"answer": words(rng, 3), "n": rng.randint(0, 9)}, indent=rng.choice([None, 2]))
        wraps = (
            ["{}", "```json\n{}\n```", "```\n{}\n```", "```JSON\n{}\n```", "Here: {}", "{}}}"]
            if hard
            else ["{}", "```json\n{}\n```"]
        )
        return rng.choice(wraps).format(body)
    if iid == "detectable_format:constrained_response":
        return rng.choice(CONSTRAINED) + ("" if not hard else rng.choice(["", " Because.", "\n"]))
    if iid == "combination:two_responses":
        a, b = sentences(rng, 1), sentences(rng, 1)
        seps = ["\n******\n", "******"] + (["\n*******\n", "\n****** \n", "\n***\n"] if hard else [])
        return a + rng.choice(seps) + rng.choice([b, b, a, ""])
    if iid == "combination:repeat_prompt":
        p = str(kw["prompt_to_repeat"])
        forms = [p, p.lower(), " " + p, p[:-1]] if hard else [p, p.lower()]
        return rng.choice(forms) + "\n" + sentences(rng, 1) if rng.random() < 0.8 else sentences(rng, 1)
    if iid == "startend:end_checker":
        end = str(kw["end_phrase"])
        return sentences(rng, 1) + " " + rng.choice([end, end, end.lower(), end + " ", end[:-1], end + "!"])
    if iid == "startend:quotation":
        return rng.choice(['"{}"', "{}", '"{}', "“{}”", ' "{}" ']).format(sentences(rng, 1))
    if iid == "change_case:english_lowercase":
        s = sentences(rng, 2, hard)
        return s.lower() if rng.random() < 0.7 else s
    if iid == "change_case:english_capital":
        s = sentences(rng, 2, hard)
        return s.upper() if rng.random() < 0.7 else s
    if iid == "change_case:capital_word_frequency":
        n = near(rng, int(kw["capital_frequency"]))
        caps = ["WORD", "DON'T", "U.S.", "A", "I", "AI-BASED", "OK!"] if hard else ["WORD", "KEY"]
        return " ".join(words(rng, 2) + " " + rng.choice(caps) for _ in range(n))
    if iid == "keywords:existence":
        return " ".join(rng.choice([k, k.upper(), k + "s", ""]) for k in kw["keywords"])
    if iid == "keywords:forbidden_words":
        return " ".join(rng.choice([w, w.capitalize(), w + "ing", "un" + w, ""]) for w in kw["forbidden_words"])
    if iid == "keywords:frequency":
        k = str(kw["keyword"])
        n = near(rng, int(kw["frequency"]) - (1 if rel_less else 0))
        forms = [k, k.capitalize(), k + ",", k + "s", "(" + k + ")"] if hard else [k, k.capitalize()]
        return " ".join(words(rng, 1) + " " + rng.choice(forms) for _ in range(n))
    if iid == "keywords:letter_frequency":
        letter = str(kw["letter"])
        n = near(rng, int(kw["let_frequency"]) - (1 if kw.get("let_relation") == "less than" else 0))
        return " ".join(rng.choice([letter, letter.upper()]) for _ in range(n))
    if iid == "language:response_language":
        langs = list(LANG_SAMPLES)
        return (
            LANG_SAMPLES.get(str(kw["language"]), LANG_SAMPLES["en"])
            if rng.random() < 0.6
            else LANG_SAMPLES[rng.choice(langs)]
        )
    if iid == "punctuation:no_comma":
        return sentences(rng, 2) + rng.choice(["", "", ",", "，", " a, b"] if hard else ["", ","])
    return ""


def boundary(rng: random.Random, row: dict[str, Any]) -> str:
    parts = [
        piece(rng, iid, kw or {}, False) for iid, kw in zip(row["instruction_id_list"], row["kwargs"], strict=True)
    ]
    return "\n\n".join(p for p in parts if p)


def wild(rng: random.Random, row: dict[str, Any]) -> str:
    roll = rng.random()
    if roll < 0.03:
        return rng.choice(["", " ", "\n\n", "\t"])
    parts = [piece(rng, iid, kw or {}, True) for iid, kw in zip(row["instruction_id_list"], row["kwargs"], strict=True)]
    rng.shuffle(parts)
    text = rng.choice(["\n\n", "\n", " "]).join(p for p in parts if p)
    if rng.random() < 0.3:
        text = rng.choice(["Sure! Here is my answer:\n", "Certainly.\n\n", "**Answer**\n"]) + text
    if rng.random() < 0.2:
        text += rng.choice(["\n\nI hope this helps!", "\n\n---\nLet me know.", "\n"])
    if rng.random() < 0.15:
        text = text.replace("\n", "\r\n")
    if rng.random() < 0.1:
        text = text.replace(" ", "\u00a0", rng.randint(1, 3))
    if rng.random() < 0.1:
        text = text.replace('"', "“", 1)
    if rng.random() < 0.1:
        text = LANG_SAMPLES[rng.choice(list(LANG_SAMPLES))] + " " + text
    return text


GENERATORS: dict[str, Callable[[random.Random, dict[str, Any]], str]] = {"boundary": boundary, "wild": wild}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--input-data", type=Path, required=True, help="an IFEval input file")
    ap.add_argument("--generator", choices=sorted(GENERATORS), required=True)
    ap.add_argument("--per-prompt", type=int, default=4, help="responses per prompt")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--out", type=Path, required=True)
    args = ap.parse_args()
    rng = random.Random(f"{args.generator}-{args.seed}")
    rows = [json.loads(ln) for ln in args.input_data.read_text(encoding="utf-8").splitlines() if ln.strip()]
    with args.out.open("w", encoding="utf-8") as out:
        for row in rows:
            for _ in range(args.per_prompt):
                response = GENERATORS[args.generator](rng, row)
                out.write(json.dumps({"key": row["key"], "prompt": row["prompt"], "response": response}) + "\n")
    print(f"{len(rows) * args.per_prompt} responses ({args.generator}) -> {args.out}")


if __name__ == "__main__":
    main()
