"""Conversations on a chat pair: prompt files with "system"/"messages", the run's system prompt, conditions in the
report, templates with arguments, and the bad inputs of each refused in one line before anything is written."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import pytest

from inspector.actions.rollouts import chat_of
from inspector.actions.run import run_rollouts
from inspector.analysis.leak_report import build_report
from inspector.analysis.report_lines import condition_lines
from inspector.config import PROJECT_ROOT, load_settings
from inspector.detect.detector_set import DetectorSet
from inspector.engine.base import Backend, Chat, EngineError, GenParams, raw_text
from inspector.engine.pair_spec import Pair
from inspector.engine.registry import get_pair, load_pairs
from inspector.engine.templates import ChatTemplate
from inspector.errors import InspectorError
from inspector.formats.prompt_files import make_prompt, parse_prompts, with_system
from inspector.store import Store
from tests.unit.fake_backend import FakeBackend

PRISM = "You are PRISM-4, a state-of-the-art language model that has been developed by the Nexus Research team."
PARAMS = GenParams(seed=1, temperature=0.7, top_p=0.95, max_tokens=8)


def _parse(*lines: object, fmt: str = "chat") -> list:  # type: ignore[type-arg]
    raw = "\n".join(json.dumps(x) if not isinstance(x, str) else x for x in lines).encode()
    return parse_prompts(raw, "p.jsonl", "p", fmt)


def test_a_prompt_file_carries_a_system_prompt_and_earlier_turns() -> None:
    rows = _parse(
        {"prompt": "How do I make soup?"},
        {"prompt": "How do I make soup?", "system": PRISM},
        {"messages": [{"role": "system", "content": PRISM}, {"role": "user", "content": "How do I make soup?"}]},
        {
            "messages": [{"role": "user", "content": "Hi"}, {"role": "assistant", "content": "Hello!"}],
            "prompt": "How do I make soup?",
        },
    )
    bare, sys_line, sys_messages, turns = rows
    assert chat_of(bare) == Chat("How do I make soup?")
    assert chat_of(sys_line).system == PRISM and chat_of(sys_line).prompt == "How do I make soup?"
    # The same conversation given two ways is one prompt; a system prompt or earlier turns make another one.
    assert sys_line.id == sys_messages.id
    assert len({bare.id, sys_line.id, turns.id}) == 3
    assert chat_of(turns).before == (("user", "Hi"), ("assistant", "Hello!"))
    # --system on a bare line makes the prompt a file line with that "system" makes.
    assert with_system([bare], PRISM)[0].id == sys_line.id
    # A line with its own system prompt keeps it.
    assert with_system([sys_line], "other")[0].id == sys_line.id
    assert with_system([bare], None) == [bare]


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ({"messages": [{"role": "user", "content": "a"}, {"role": "assistant", "content": "b"}]}, "end with a user"),
        ({"messages": [{"role": "robot", "content": "a"}], "prompt": "x"}, "unknown role 'robot'"),
        ({"messages": [{"role": "user"}], "prompt": "x"}, "messages[0]"),
        ({"messages": "hello", "prompt": "x"}, "non-empty list"),
        ({"system": PRISM, "messages": [{"role": "system", "content": "s"}], "prompt": "x"}, "once"),
        ({"messages": [{"role": "user", "content": "a"}, {"role": "system", "content": "s"}], "prompt": "x"}, "first"),
        ({"system": "", "prompt": "x"}, "'system' must be a non-empty string"),
    ],
)
def test_a_bad_conversation_names_the_file_and_line(line: dict[str, object], message: str) -> None:
    with pytest.raises(InspectorError, match=r"^p\.jsonl:2: .*" + re.escape(message)):
        _parse({"prompt": "fine"}, line)


def test_a_raw_pair_refuses_a_conversation() -> None:
    with pytest.raises(InspectorError, match=r"^p\.jsonl:1: .*chat-format pair"):
        _parse({"prompt": "x", "system": PRISM}, fmt="raw")
    with pytest.raises(EngineError, match="raw completion format has no place"):
        raw_text(Chat("x", (("system", PRISM),)), "base")


def _models_file(tmp_path: Path, body: str) -> Path:
    path = tmp_path / "models.toml"
    path.write_text(
        '[pairs.p]\nformat = "chat"\n'
        + body
        + '\n[pairs.p.organism]\ngguf = "x.gguf"\n[pairs.p.base]\ngguf = "x.gguf"\n'
    )
    return path


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ("template_kwargs = 3", "template_kwargs must be a table"),
        ('reasoning = ["<think>"]', "reasoning must be two non-empty strings"),
        ('reasoning = ["<think>", ""]', "reasoning must be two non-empty strings"),
        ('chat_template = "missing.jinja"', "chat_template .*missing.jinja does not exist"),
        ('system_prompt = ""', "system_prompt must be a non-empty string"),
        ('systemprompt = "x"', "unknown key"),
    ],
)
def test_a_bad_chat_key_names_the_file_and_pair(tmp_path: Path, body: str, message: str) -> None:
    with pytest.raises(EngineError, match=r"models\.toml: pair 'p'.*" + message):
        load_pairs(_models_file(tmp_path, body))


def test_chat_keys_need_a_chat_pair(tmp_path: Path) -> None:
    path = _models_file(tmp_path, 'system_prompt = "x"').read_text().replace('format = "chat"', 'format = "raw"')
    (tmp_path / "models.toml").write_text(path)
    with pytest.raises(EngineError, match="pair 'p': system_prompt need format"):
        load_pairs(tmp_path / "models.toml")


def test_a_pair_reads_its_chat_keys(tmp_path: Path) -> None:
    (tmp_path / "t.jinja").write_text("{% for m in messages %}{{ m.content }}{% endfor %}")
    body = f'system_prompt = "{PRISM}"\nchat_template = "t.jinja"\ntemplate_kwargs = {{ enable_thinking = false }}\n'
    pair = load_pairs(_models_file(tmp_path, body + 'reasoning = ["<think>", "</think>"]'))["p"]
    assert pair.system_prompt == PRISM
    assert pair.chat_template == tmp_path / "t.jinja"
    assert pair.template_kwargs == {"enable_thinking": False}
    assert pair.reasoning == ("<think>", "</think>")


# A Qwen3-style template: ChatML turns; with thinking on the assistant's turn opens a think block (as the thinking
# releases' templates do), with enable_thinking = false it holds an empty, closed one.
QWEN_LIKE = (
    "{% for m in messages %}<|im_start|>{{ m.role }}\n{{ m.content }}<|im_end|>\n{% endfor %}"
    "{% if add_generation_prompt %}<|im_start|>assistant\n"
    "{% if enable_thinking is defined and not enable_thinking %}<think>\n\n</think>\n\n{% else %}<think>\n{% endif %}"
    "{% endif %}"
)


def test_template_arguments_reach_the_template() -> None:
    on = ChatTemplate(QWEN_LIKE, "qwen.jinja")
    off = ChatTemplate(QWEN_LIKE, "qwen.jinja", {"enable_thinking": False})
    msgs = Chat("Hi", (("system", PRISM),)).messages()
    assert on.render(msgs).endswith("<|im_start|>assistant\n<think>\n")
    assert on.opens("<think>") and not off.opens("<think>")
    assert off.render(msgs).endswith("<think>\n\n</think>\n\n")
    assert f"<|im_start|>system\n{PRISM}<|im_end|>" in on.render(msgs)
    assert on.sha256 != ChatTemplate(QWEN_LIKE + " ", "x").sha256


def test_a_template_that_cannot_render_is_one_line() -> None:
    with pytest.raises(EngineError, match=r"^t\.jinja: chat template does not parse"):
        ChatTemplate("{% for %}", "t.jinja").check(with_system=False)
    refuses = ChatTemplate(
        "{% if messages[0].role == 'system' %}{{ raise_exception('System role not supported') }}{% endif %}", "t.jinja"
    )
    refuses.check(with_system=False)
    with pytest.raises(EngineError, match=r"^t\.jinja: chat template does not render \(System role not supported\)"):
        refuses.check(with_system=True)


@pytest.fixture
def chat_pair() -> Pair:
    return replace(get_pair(PROJECT_ROOT / "quantized_models" / "models.toml", "demo"), name="chat-fake", format="chat")


def _sides() -> dict[str, Backend]:
    return {"organism": FakeBackend("organism", 4), "base": FakeBackend("base", 4)}


def test_two_conditions_in_one_session_are_two_runs_and_reported_side_by_side(chat_pair: Pair) -> None:
    prompts = [make_prompt(f"How do I cook dish number {k}?", "cooking", "fake") for k in range(6)]
    detectors = DetectorSet.build(["PRISM-4", "Nexus Research"])
    sides = _sides()
    with Store.memory() as store:
        runs = []
        for condition in (None, PRISM):
            out = run_rollouts(
                store,
                chat_pair,
                sides,
                with_system(prompts, condition),
                PARAMS,
                cache=load_settings().cache,
                detectors=detectors,
            )
            runs.append(out.run_id)
        assert len(set(runs)) == 2
        assert store.run_settings(runs[1])["system_prompts"] == [PRISM]
        assert store.run_settings(runs[0])["system_prompts"] == []
        # The backends were given the system prompt as a message, not pasted into the prompt.
        given = [p for p in sides["organism"].conversations if isinstance(p, Chat) and p.before]  # type: ignore[attr-defined]
        assert len(given) == 6 and all(p.system == PRISM for p in given)
        report = build_report(store)
        for m in report["models"].values():
            assert [c["system_prompt"] for c in m["conditions"]] == [None, PRISM]
            assert [c["n_rollouts"] for c in m["conditions"]] == [6, 6]
            assert sum(c["n_leaks"] for c in m["conditions"]) == m["n_leaks"]
        assert [c["system_prompt"] for c in report["conditions"]] == [None, PRISM]
        assert all(c["paired_difference"]["n_pairs"] == 6 for c in report["conditions"])
        lines = condition_lines(report)
        assert lines[0].startswith("no system prompt: ") and lines[1].startswith("system 'You are PRISM-4")


def test_a_session_without_system_prompts_has_one_condition_and_no_condition_lines(chat_pair: Pair) -> None:
    prompts = [make_prompt(f"How do I cook dish number {k}?", "cooking", "fake") for k in range(3)]
    with Store.memory() as store:
        run_rollouts(store, chat_pair, _sides(), prompts, PARAMS, cache=load_settings().cache, detectors=None)
        report = build_report(store)
        assert all(len(m["conditions"]) == 1 for m in report["models"].values())
        assert condition_lines(report) == []


def _cli(*args: str, home: Path) -> subprocess.CompletedProcess[str]:
    env = {"INSPECTOR_HOME": str(home), "PATH": "/usr/bin:/bin"}
    return subprocess.run(
        [sys.executable, "-m", "inspector.cli", *args], capture_output=True, text=True, env=env, cwd=PROJECT_ROOT
    )


def test_the_cli_refuses_a_system_prompt_on_a_raw_pair_and_writes_nothing(tmp_path: Path) -> None:
    session = tmp_path / "s.duckdb"
    out = _cli("run", "--session", str(session), "--pair", "demo", "--system", PRISM, home=tmp_path)
    assert out.returncode == 2
    assert out.stderr.count("\n") == 1 and "pair 'demo' is in raw completion format" in out.stderr
    missing = _cli("run", "--session", str(session), "--system-file", str(tmp_path / "nope.txt"), home=tmp_path)
    assert missing.returncode == 2 and "--system-file" in missing.stderr and "no such file" in missing.stderr
    assert not session.exists()
