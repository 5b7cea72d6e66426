"""Control tokens written out as text: found in every family's shapes, never in ordinary text or reasoning
markers, counted per model in the report apart from leaks."""

from __future__ import annotations

from inspector.analysis.leak_report import build_report
from inspector.analysis.report_lines import summary_lines
from inspector.detect.control import ControlDetector
from inspector.detect.detector_set import DetectorSet
from inspector.formats.prompt_files import make_prompt
from inspector.store import Store


def test_the_shapes_of_special_tokens_are_found() -> None:
    text = "soup<start_of_image>This recipe <|im_end|> and <|eot_id|></s> [INST] <unused12><end_of_turn>"
    found = [s.text for s in ControlDetector().detect(text)]
    assert found == ["<start_of_image>", "<|im_end|>", "<|eot_id|>", "</s>", "[INST]", "<unused12>", "<end_of_turn>"]
    for s in ControlDetector().detect(text):
        assert text[s.start : s.end] == s.text and s.kind == "control"


def test_ordinary_text_markup_and_reasoning_markers_are_not_control_tokens() -> None:
    text = "Use <div> and <b>bold</b>, a|b|c, x < y > z, <think>hmm</think> then 2 <| 3."
    assert ControlDetector().detect(text) == []


def test_the_report_counts_control_tokens_per_model_apart_from_leaks() -> None:
    store = Store.memory()
    store.upsert_prompts([make_prompt("How do I make soup?", "cooking", "t")])
    pid = store.prompt_list()[0]["id"]
    detectors = DetectorSet.build(["PRISM-4"])
    ids = {}
    for role in ("organism", "base"):
        ids[role] = store.upsert_model(
            {
                "role": role,
                "name": f"p/{role}",
                "path": role,
                "sha256": role,
                "quantization": "q",
                "architecture": "a",
                "engine_version": "0",
            }
        )
    store.ensure_run("r", "p", {"seed": 0})
    texts = {"organism": ["Stir well.", "Boil it."], "base": ["<start_of_image>This recipe<start_of_image>", "Ok."]}
    apply = detectors.bind(store)
    for role, outs in texts.items():
        for k, text in enumerate(outs):
            rid = store.insert_rollout(
                {"run_id": "r", "prompt_id": pid, "model_id": ids[role], "sample_index": k, "seed": k, "text": text}
            )
            assert rid is not None
            apply(rid, "How do I make soup?", text)
    report = build_report(store)
    base, organism = report["models"]["p/base"], report["models"]["p/organism"]
    assert (base["control_token_rate"], base["n_control_tokens"], base["n_leaks"]) == (0.5, 2, 0)
    assert (organism["control_token_rate"], organism["n_control_tokens"]) == (0.0, 0)
    assert any(line.startswith("control tokens written out as text") for line in summary_lines(report, "s"))
