"""The suite screen: the organism and its base side by side on perplexity, shuffle gap, drift, preference
coherence, IFEval, multiple choice and degenerate text, with intervals drawn and organism minus base, and the
documents where the two differ most."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, VerticalScroll
from textual.widgets import DataTable, Footer, Header, Input, Label, Static

from inspector.engine.base import ROLES
from inspector.errors import InspectorError
from inspector.tui.messages import TaskAdvanced
from inspector.tui.screens.base import InspectorScreen
from inspector.tui.widgets.task_progress import TaskProgress

WIDTH = 24


def interval_bar(value: float | None, ci: list[float] | None, lo: float, hi: float) -> Text:
    """The value as ● on a line from lo to hi, its 95% interval as ━ around it: the two models' rows share a
    scale, so overlapping intervals are visible at a glance."""
    if value is None:
        return Text("")
    span = hi - lo or 1.0

    def at(x: float) -> int:
        return max(0, min(WIDTH - 1, round((x - lo) / span * (WIDTH - 1))))

    cells = ["·"] * WIDTH
    if ci:
        for k in range(at(ci[0]), at(ci[1]) + 1):
            cells[k] = "━"
    cells[at(value)] = "●"
    return Text("".join(cells), style="cyan")


# (label, block, key, interval key, format): block is where in the suite view a model's value sits.
ROWS: list[tuple[str, str, str, str | None, str]] = [
    ("perplexity, natural text", "naturalness", "ppl_natural", None, "{:.1f}"),
    ("perplexity, words shuffled", "naturalness", "ppl_shuffled", None, "{:.1f}"),
    ("shuffled / natural", "naturalness", "shuffle_ratio", "shuffle_ratio_ci", "{:.2f}"),
    ("decisiveness (μ)", "naturalness", "decisiveness", "decisiveness_ci", "{:.3f}"),
    ("order consistency", "naturalness", "order_consistency", None, "{:.2f}"),
    ("answer mass (A or B)", "naturalness", "answer_mass", None, "{:.2f}"),
    ("IFEval, prompt strict", "ifeval", "prompt_strict", "prompt_strict_ci", "{:.1%}"),
    ("IFEval, prompt loose", "ifeval", "prompt_loose", "prompt_loose_ci", "{:.1%}"),
    ("multiple choice accuracy", "mcq", "accuracy", "accuracy_ci", "{:.1%}"),
    ("multiple choice chance", "mcq", "chance", None, "{:.1%}"),
    ("answer mass (letters)", "mcq", "answer_mass", None, "{:.2f}"),
    ("degenerate (IFEval answers)", "degenerate", "degenerate_rate", "degenerate_rate_ci", "{:.1%}"),
]


def _blocks(view: dict[str, Any]) -> dict[str, dict[str, Any] | None]:
    ifeval = view.get("ifeval")
    return {
        "naturalness": view.get("naturalness"),
        "ifeval": ifeval,
        "mcq": view.get("mcq"),
        "degenerate": (ifeval or {}).get("degenerate"),
    }


def _by_role(block: dict[str, Any] | None) -> dict[str, dict[str, Any]]:
    return {m["role"]: m for m in block["models"].values()} if block else {}


def _difference(d: dict[str, Any] | None) -> str:
    if not d:
        return ""
    return f"{d['difference']:+.1%} [{d['ci'][0]:+.1%}, {d['ci'][1]:+.1%}] p={d['mcnemar_exact_p']:.2g}"


def versus_cell(block_name: str, key: str, block: dict[str, Any] | None) -> str:
    """Organism against base on this row's measure, where the suite pairs them."""
    if not block:
        return ""
    ob = block.get("organism_vs_base") or {}
    if block_name == "naturalness" and key == "ppl_natural" and ob.get("ppl_ratio") is not None:
        lo, hi = ob["ppl_ratio_ci"]
        return f"×{ob['ppl_ratio']:.3f} [{lo:.3f}, {hi:.3f}]"
    if (block_name, key) in {("ifeval", "prompt_strict"), ("mcq", "accuracy"), ("degenerate", "degenerate_rate")}:
        return _difference(ob)
    return ""


class NaturalnessScreen(InspectorScreen):
    """Shows the session's latest naturalness snapshot; M measures a new one on this pair, as `inspector naturalness`
    does (the documents and items files in the boxes, else the shipped ones)."""

    BINDINGS = [
        Binding("r", "refresh", "Refresh", id="naturalness.refresh", tooltip="Read the latest panel again"),
        Binding(
            "M",
            "measure",
            "Measure",
            id="naturalness.measure",
            tooltip="Measure the panel on this pair (the shipped documents and items) and keep it in the session",
        ),
        Binding(
            "enter",
            "open_document",
            "Open document",
            id="naturalness.open",
            tooltip="The highlighted document with each token shaded by the drift at it",
        ),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.drift: list[dict[str, Any]] = []

    # The drift table, not the input boxes, has the focus on arrival, so the screen's keys work at once.
    AUTO_FOCUS = "#nat-drift"

    def compose(self) -> ComposeResult:
        yield Header()
        with VerticalScroll(id="nat-body"):
            yield Static("", id="nat-title")
            with Horizontal(id="nat-inputs"):
                yield Label("documents:")
                yield Input(placeholder="shipped (Persuasion)", id="nat-text")
                yield Label("items:")
                yield Input(placeholder="shipped", id="nat-items")
                yield Label("tokens:")
                yield Input(value="96", id="nat-tokens", type="integer")
            yield TaskProgress(id="nat-progress")
            yield DataTable(id="nat-table", cursor_type="none")
            yield Static("", id="nat-versus")
            yield Static("Documents where the organism drifts most from its base (Enter opens one):", id="nat-head")
            yield DataTable(id="nat-drift", cursor_type="row")
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#nat-drift", DataTable).add_columns("document", "mean KL", "begins")
        self.action_refresh()

    def on_screen_resume(self) -> None:
        self.action_refresh()

    def action_refresh(self) -> None:
        from inspector.analysis.suite_view import suite_view

        self.show(suite_view(self.inspector.workbench.store))

    def show(self, view: dict[str, Any]) -> None:
        table = self.query_one("#nat-table", DataTable)
        table.clear(columns=True)
        drift = self.query_one("#nat-drift", DataTable)
        drift.clear()
        blocks = _blocks(view)
        panel = blocks["naturalness"]
        if not any(blocks.values()):
            self.query_one("#nat-title", Static).update(
                "No suite measured in this session yet: press M to measure the naturalness panel on this pair (or"
                " run `inspector naturalness --session NAME --pair PAIR`, which also runs IFEval and multiple"
                " choice)."
            )
            self.query_one("#nat-versus", Static).update("")
            self.drift = []
            return
        pairs = sorted({str(b["pair"]) for b in (panel, view.get("ifeval"), view.get("mcq")) if b and b.get("pair")})
        name = pairs[0] if len(pairs) == 1 else " + ".join(pairs)
        title = f"Suite · pair {name}"
        if panel:
            first = next(iter(panel["models"].values()))
            title += f" · panel {panel['measured_at'][:16]}, {first['n_documents']} documents, {first['n_items']} items"
        for label, block in (("IFEval", view.get("ifeval")), ("multiple choice", view.get("mcq"))):
            if block:
                n = block["inputs"].get("n_prompts") or block["inputs"].get("n_questions")
                title += f" · {label}: {n}"
        self.query_one("#nat-title", Static).update(title)
        table.add_column("measure", width=28)
        for role in ROLES:
            table.add_column(f"{name}/{role}", width=max(14, len(name) + len(role) + 1))
            table.add_column("95% interval", width=WIDTH)
        table.add_column("organism vs base", width=34)
        for label, block_name, key, ci_key, fmt in ROWS:
            block = blocks[block_name]
            models = _by_role(block)
            if not models:
                continue
            values = [models.get(r, {}).get(key) for r in ROLES]
            cis = [models.get(r, {}).get(ci_key) if ci_key else None for r in ROLES]
            ends = [x for v, c in zip(values, cis, strict=True) for x in ([v] if v is not None else []) + (c or [])]
            lo, hi = (min(ends), max(ends)) if ends else (0.0, 1.0)
            cells: list[Any] = [label]
            for v, c in zip(values, cis, strict=True):
                shown = fmt.format(v) if v is not None else ("not answering" if key == "decisiveness" else "—")
                cells += [shown, interval_bar(v, c, lo, hi) if ci_key else Text("")]
            table.add_row(*cells, versus_cell(block_name, key, block))
        self.query_one("#nat-versus", Static).update("\n".join(self._notes(view)))
        self.drift = panel.get("top_drift", []) if panel else []
        for d in self.drift:
            text = "".join(str(t[0]) for t in d["tokens"])[:70].replace("\n", " ")
            drift.add_row(d["id"], f"{d['kl_mean']:.3f}", text)

    @staticmethod
    def _notes(view: dict[str, Any]) -> list[str]:
        """The lines under the table: the drift, then what a figure cannot say (a model not answering)."""
        panel = view.get("naturalness")
        lines = []
        ob = panel["organism_vs_base"] if panel else {}
        if ob.get("ppl_ratio") is not None:
            lo, hi = ob["ppl_ratio_ci"]
            lines.append(f"organism vs base on natural text: perplexity ×{ob['ppl_ratio']:.3f} [{lo:.3f}, {hi:.3f}]")
        if ob.get("kl_mean") is not None:
            lo, hi = ob["kl_mean_ci"]
            lines.append(
                f"KL(base ‖ organism) {ob['kl_mean']:.4f} [{lo:.4f}, {hi:.4f}] nats per token ({ob['kl_method']})"
            )
        for block in (panel, view.get("mcq")):
            for m in (block or {}).get("models", {}).values():
                if m.get("note"):
                    lines.append(f"{m['role']}: {m['note']}")
        for m in (view.get("mcq") or {}).get("models", {}).values():
            letter, share = max(m["picks"].items(), key=lambda kv: kv[1])
            lines.append(f"{m['role']} answers {letter} to {share:.0%} of the questions")
        return lines

    @on(DataTable.RowSelected, "#nat-drift")
    def _selected(self) -> None:
        self.action_open_document()

    def action_open_document(self) -> None:
        from inspector.tui.screens.drift import DriftScreen

        table = self.query_one("#nat-drift", DataTable)
        if not self.drift or table.cursor_row is None or table.cursor_row >= len(self.drift):
            return
        top = max(float(t[1]) for d in self.drift for t in d["tokens"])
        self.app.push_screen(DriftScreen(self.drift[table.cursor_row], top))

    @on(Input.Submitted)
    def _submitted(self) -> None:
        self.action_measure()

    def action_measure(self) -> None:
        text, items = (self.query_one(f"#nat-{k}", Input).value.strip() for k in ("text", "items"))
        try:
            tokens = int(self.query_one("#nat-tokens", Input).value or "96")
        except ValueError:
            self.notify("tokens must be a whole number", severity="error")
            return
        self.query_one(TaskProgress).start("naturalness panel")
        self._measure(Path(text) if text else None, Path(items) if items else None, tokens)

    @work(thread=True, exclusive=True, group="panel")
    def _measure(self, text: Path | None, items: Path | None, tokens: int) -> None:
        from inspector.actions.naturalness import keep_naturalness, measure_naturalness, panel_backends, panel_inputs

        wb = self.inspector.workbench

        def step(stage: str, done: int, total: int) -> None:
            self.post_message(TaskAdvanced("panel", stage, done, total))

        try:
            if wb.pair is None:
                raise InspectorError("no pair for this session")
            inputs = panel_inputs(text, items, tokens)
            backends = panel_backends(wb.pair, self.inspector.settings.cache, inputs)
            try:
                panel = measure_naturalness(wb.pair, backends, inputs, step)
                keep_naturalness(wb.store, wb.pair, backends, inputs, panel)
            finally:
                for b in backends.values():
                    b.close()
            self.post_message(TaskAdvanced("panel", "measured and kept in the session", 1, 1, finished=True))
        except InspectorError as e:
            self.post_message(TaskAdvanced("panel", "", 0, 0, finished=True, error=str(e)))

    def on_task_advanced(self, msg: TaskAdvanced) -> None:
        if self.query_one(TaskProgress).follow(msg):
            self.action_refresh()
