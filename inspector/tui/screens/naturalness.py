"""Naturalness: the organism and its base side by side on perplexity, shuffle gap, drift and preference
coherence, with intervals drawn, and the documents where the two differ most."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, VerticalScroll
from textual.widgets import DataTable, Footer, Header, Input, Label, Static

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


ROWS: list[tuple[str, str, str | None, str]] = [
    ("perplexity, natural text", "ppl_natural", None, "{:.1f}"),
    ("perplexity, words shuffled", "ppl_shuffled", None, "{:.1f}"),
    ("shuffled / natural", "shuffle_ratio", "shuffle_ratio_ci", "{:.2f}"),
    ("decisiveness (μ)", "decisiveness", "decisiveness_ci", "{:.3f}"),
    ("order consistency", "order_consistency", None, "{:.2f}"),
    ("answer mass (A or B)", "answer_mass", None, "{:.2f}"),
]


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
        snap = self.inspector.workbench.store.latest_snapshot("naturalness")
        self.show(snap)

    def show(self, snap: dict[str, Any] | None) -> None:
        table = self.query_one("#nat-table", DataTable)
        table.clear(columns=True)
        drift = self.query_one("#nat-drift", DataTable)
        drift.clear()
        if snap is None:
            self.query_one("#nat-title", Static).update(
                "No naturalness panel in this session yet: press M to measure one on this pair (or run"
                " `inspector naturalness --session NAME --pair PAIR`)."
            )
            self.query_one("#nat-versus", Static).update("")
            self.drift = []
            return
        panel = snap["metrics"]
        models = panel["models"]
        names = sorted(models, key=lambda n: models[n]["role"] != "organism")  # organism first
        first = models[names[0]]
        self.query_one("#nat-title", Static).update(
            f"Naturalness · pair {snap['inputs'].get('pair')} · measured {str(snap['created_at'])[:16]} ·"
            f" {first['n_documents']} documents, {first['n_items']} items"
        )
        table.add_column("measure", width=28)
        for n in names:
            table.add_column(n, width=max(14, len(n)))
            table.add_column("95% interval", width=WIDTH)
        for label, key, ci_key, fmt in ROWS:
            values = [models[n].get(key) for n in names]
            cis = [models[n].get(ci_key) if ci_key else None for n in names]
            ends = [x for v, c in zip(values, cis, strict=True) for x in ([v] if v is not None else []) + (c or [])]
            lo, hi = (min(ends), max(ends)) if ends else (0.0, 1.0)
            cells: list[Any] = [label]
            for v, c in zip(values, cis, strict=True):
                shown = fmt.format(v) if v is not None else ("not answering" if key == "decisiveness" else "—")
                cells += [shown, interval_bar(v, c, lo, hi) if ci_key else Text("")]
            table.add_row(*cells)
        ob = panel["organism_vs_base"]
        notes = [str(models[n]["note"]) for n in names if models[n].get("note")]
        self.query_one("#nat-versus", Static).update(
            f"organism vs base on natural text: perplexity ×{ob['ppl_ratio']:.3f}"
            f" [{ob['ppl_ratio_ci'][0]:.3f}, {ob['ppl_ratio_ci'][1]:.3f}] · KL(base ‖ organism)"
            f" {ob['kl_mean']:.4f} [{ob['kl_mean_ci'][0]:.4f}, {ob['kl_mean_ci'][1]:.4f}] nats per token"
            f" ({ob['kl_method']})" + "".join(f"\n{n}" for n in notes)
        )
        self.drift = panel.get("top_drift", [])
        for d in self.drift:
            text = "".join(str(t[0]) for t in d["tokens"])[:70].replace("\n", " ")
            drift.add_row(d["id"], f"{d['kl_mean']:.3f}", text)

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
