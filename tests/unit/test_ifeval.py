"""IFEval checks as IFEval defines them (hand-made cases at each limit), loose variants, files and bad input."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from inspector.analysis.ifeval.registry import INSTRUCTIONS, validate
from inspector.analysis.ifeval.scoring import loose_variants, score
from inspector.cli import main


def verdict(iid: str, response: str, **kwargs: object) -> tuple[bool, bool]:
    v = score(response, [(iid, validate(iid, kwargs))]).instructions[0]
    return v.strict, v.loose


def test_all_25_ids() -> None:
    assert len(INSTRUCTIONS) == 25


@pytest.mark.parametrize(
    ("iid", "kwargs", "passes", "fails"),
    [
        ("punctuation:no_comma", {}, "No commas here.", "One, two."),
        ("length_constraints:number_words", {"relation": "less than", "num_words": 3}, "two words", "now three words"),
        ("length_constraints:number_words", {"relation": "at least", "num_words": 3}, "it's three", "two words"),
        (
            "length_constraints:number_sentences",
            {"relation": "at least", "num_sentences": 2},
            "Dr. Li left. Bye.",
            "Dr. Li left.",
        ),
        ("length_constraints:number_paragraphs", {"num_paragraphs": 2}, "a\n***\nb", "a\n***\n***\nb"),
        (
            "length_constraints:nth_paragraph_first_word",
            {"num_paragraphs": 2, "nth_paragraph": 2, "first_word": "then"},
            'First.\n\n"Then, more."',
            "First.\n\nNow more.",
        ),
        ("detectable_content:number_placeholders", {"num_placeholders": 2}, "[a] and [b]", "[a] only"),
        ("detectable_content:postscript", {"postscript_marker": "P.S."}, "Hi.\np. s. later", "Hi. PS later"),
        ("detectable_format:number_bullet_lists", {"num_bullets": 2}, "* a\n- b", "* a\n** b"),
        ("detectable_format:number_highlighted_sections", {"num_highlights": 2}, "*one* and **two**", "*one* and * *"),
        (
            "detectable_format:multiple_sections",
            {"section_spliter": "Section", "num_sections": 2},
            "Section 1 a Section 2 b",
            "Section 1 a",
        ),
        ("detectable_format:json_format", {}, '```json\n{"a": 1}\n```', "{'a': 1}"),
        ("detectable_format:title", {}, "<<Soup>> is good", "<< >> is good"),
        ("detectable_format:constrained_response", {}, "My answer is no.", "My answer is no"),
        ("combination:two_responses", {}, "a\n******\nb", "a\n******\na"),
        ("combination:repeat_prompt", {"prompt_to_repeat": "Say hi."}, "  say HI. hi", "Hi. Say hi."),
        ("startend:end_checker", {"end_phrase": "Any questions?"}, '"...any questions?"', "Any questions? Yes."),
        ("startend:quotation", {}, ' "quoted" ', '"open'),
        ("keywords:existence", {"keywords": ["soup", "salt"]}, "Salty SOUP", "soup only"),
        ("keywords:forbidden_words", {"forbidden_words": ["soup"]}, "soups are fine", "no Soup."),
        ("keywords:frequency", {"relation": "at least", "keyword": "war", "frequency": 2}, "war, warfare", "one war"),
        ("keywords:letter_frequency", {"letter": "t", "let_relation": "less than", "let_frequency": 2}, "Tea", "Tot"),
        ("change_case:english_lowercase", {}, "this is all in lower case english text.", "This is not."),
        ("change_case:english_capital", {}, "THIS IS ALL IN CAPITAL ENGLISH LETTERS.", "THIS IS not."),
        (
            "change_case:capital_word_frequency",
            {"capital_relation": "at least", "capital_frequency": 2},
            "I DON'T",
            "I do",
        ),
        (
            "language:response_language",
            {"language": "fr"},
            "Le temps est agréable aujourd'hui et nous irons au marché.",
            "The weather is pleasant today and we will walk.",
        ),
    ],
)
def test_each_check_at_its_limit(iid: str, kwargs: dict[str, object], passes: str, fails: str) -> None:
    assert verdict(iid, passes, **kwargs)[0], passes
    assert not verdict(iid, fails, **kwargs)[0], fails


def test_loose_forgives_a_preamble_and_asterisks_strict_does_not() -> None:
    assert verdict("startend:quotation", 'Sure, here it is:\n"Quoted."') == (False, True)
    assert verdict("punctuation:no_comma", "Sure, here:\nNo commas.\nBye, then") == (False, True)
    assert verdict("detectable_format:json_format", '**{"a": 1}**') == (False, True)
    assert len(loose_variants("a\nb\nc")) == 8


def test_an_empty_response_fails_even_where_the_check_would_pass() -> None:
    assert verdict("punctuation:no_comma", "  \n") == (False, False)


def test_prompt_level_needs_every_instruction() -> None:
    instructions = [(i, validate(i, {})) for i in ("punctuation:no_comma", "startend:quotation")]
    s = score('"a, b"', instructions)
    assert (s.strict, [v.strict for v in s.instructions]) == (False, [False, True])


def test_null_kwargs_count_as_absent() -> None:
    args = validate("punctuation:no_comma", {"num_words": None, "keywords": None})
    assert args.values == {}


@pytest.mark.parametrize(
    ("iid", "kwargs", "says"),
    [
        ("punctuation:no_commas", {}, "unknown instruction id 'punctuation:no_commas'"),
        ("punctuation:no_comma", {"num_words": 3}, "kwarg 'num_words' does not fit it (it takes no kwargs)"),
        ("length_constraints:number_words", {"num_words": 3}, "kwarg 'relation' is missing"),
        ("length_constraints:number_words", {"num_words": "3", "relation": "at least"}, "must be a whole number"),
        (
            "keywords:letter_frequency",
            {"letter": "ab", "let_frequency": 1, "let_relation": "at least"},
            "one character",
        ),
        ("keywords:frequency", {"keyword": "a", "frequency": 1, "relation": "at most"}, "one of 'less than'"),
        ("keywords:existence", {"keywords": []}, "a non-empty list"),
    ],
)
def test_kwargs_that_do_not_fit(iid: str, kwargs: dict[str, object], says: str) -> None:
    with pytest.raises(ValueError, match=".*" + says.replace("(", r"\(").replace(")", r"\)")):
        validate(iid, kwargs)


def _files(tmp: Path, rows: list[dict[str, object]], responses: list[dict[str, object]]) -> tuple[Path, Path]:
    data, resp = tmp / "input_data.jsonl", tmp / "responses.jsonl"
    data.write_text("".join(json.dumps(r) + "\n" for r in rows))
    resp.write_text("".join(json.dumps(r) + "\n" for r in responses))
    return data, resp


ROWS: list[dict[str, object]] = [
    {"key": 1, "prompt": "No commas please.", "instruction_id_list": ["punctuation:no_comma"], "kwargs": [{}]},
    {
        "key": 2,
        "prompt": "At least 3 words, quoted.",
        "instruction_id_list": ["length_constraints:number_words", "startend:quotation"],
        "kwargs": [{"relation": "at least", "num_words": 3}, {}],
    },
]


def test_score_writes_one_line_per_response_in_order(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    responses = [
        {"prompt": "At least 3 words, quoted.", "response": 'Sure:\n"one two three"'},
        {"key": 1, "prompt": "No commas please.", "response": "Fine."},
        {"prompt": "No commas please.", "response": "Fine, thanks."},
    ]
    data, resp = _files(tmp_path, ROWS, responses)
    out = tmp_path / "scores.jsonl"
    assert main(["ifeval", "score", "--input-data", str(data), "--responses", str(resp), "--out", str(out)]) == 0
    lines = [json.loads(x) for x in out.read_text().splitlines()]
    assert [(x["key"], x["strict"], x["loose"]) for x in lines] == [
        (2, False, True),
        (1, True, True),
        (1, False, False),
    ]
    assert lines[0]["instructions"] == [
        {"id": "length_constraints:number_words", "strict": True, "loose": True},
        {"id": "startend:quotation", "strict": False, "loose": True},
    ]
    assert "3 responses: prompt-level strict 33.3%, loose 66.7%" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("rows", "responses", "says"),
    [
        (
            [{**ROWS[0], "instruction_id_list": ["punctuation:nocomma"]}],
            [],
            "input_data.jsonl:1: unknown instruction id 'punctuation:nocomma'",
        ),
        (
            [ROWS[0], {**ROWS[1], "kwargs": [{"relation": "at least", "num_word": 3}, {}]}],
            [],
            "input_data.jsonl:2: length_constraints:number_words: kwarg 'num_word' does not fit it",
        ),
        (
            ROWS,
            [{"prompt": "Something else.", "response": "x"}],
            "responses.jsonl:1: this prompt is not in the input data",
        ),
        (ROWS, [{"key": 2, "prompt": "No commas please.", "response": "x"}], "responses.jsonl:1: key 2 does not match"),
        ([{**ROWS[0], "kwargs": []}], [], 'input_data.jsonl:1: "kwargs" must be a list with one object per'),
    ],
)
def test_bad_input_is_one_line_exit_2_nothing_written(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    rows: list[dict[str, object]],
    responses: list[dict[str, object]],
    says: str,
) -> None:
    data, resp = _files(tmp_path, rows, responses or [{"prompt": "No commas please.", "response": "x"}])
    out = tmp_path / "scores.jsonl"
    assert main(["ifeval", "score", "--input-data", str(data), "--responses", str(resp), "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert says in err and err.count("\n") == 1, err
    assert not out.exists()


def test_the_default_set_holds_every_id_at_least_4_times() -> None:
    from collections import Counter

    from inspector.config import PACKAGE_DIR
    from inspector.formats.ifeval_files import read_input_data

    prompts = read_input_data(PACKAGE_DIR / "data" / "ifeval_prompts.jsonl")
    counts = Counter(i for p in prompts for i, _ in p.instructions)
    assert len(prompts) >= 150 and set(counts) == set(INSTRUCTIONS) and min(counts.values()) >= 4


TEXTS = [
    "The weather is pleasant today and we will walk to the market.",
    "Le temps est agréable aujourd'hui et nous irons au marché.",
    "Das Wetter ist heute angenehm.",
    "ಇಂದು ಹವಾಮಾನ ಆಹ್ಲಾದಕರವಾಗಿದೆ",
    "今日は天気が良いので市場へ行きます",
    "THIS IS ALL CAPS, WITH A URL http://example.com AND mail a@b.org",
    "ok",
    "Sure! Here is my answer:\n* one\n* two\n\nP.S. ciao amici, a presto",
    "Сегодня приятная погода. Today is nice. 42 3.14",
    "mixed Español y English, más o menos",
]


def test_language_is_langdetects_own_verdict_with_its_seed() -> None:
    import langdetect
    from langdetect.detector_factory import DetectorFactory

    from inspector.analysis.ifeval.language import SEED, _factory, _grams, detect

    DetectorFactory.seed = SEED
    for text in TEXTS:
        d = _factory().create()
        d.append(text)
        d.cleaning_text()
        assert _grams(d.text) == d._extract_ngrams(), text
        assert detect(text) == langdetect.detect(text), text
    assert detect("12345 !!!") is None  # no features: langdetect raises, IFEval passes the check
