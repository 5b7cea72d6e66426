"""Sweep: leak rate, regurgitation and probe hit rate against the organism's adapter strength, with intervals, the
naturalness measures when the sweep took them, and the recommended strength."""

from __future__ import annotations

from typing import Any

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.widgets import DataTable, Footer, Header, Input, Label, Static
from textual.worker import get_current_worker
from textual_plotext import PlotextPlot

from inspector.analysis.strength import DEFAULT_SCALES, recommendation_line, sweep_table
from inspector.errors import InspectorError
from inspector.tui.messages import TaskAdvanced
from inspector.tui.screens.base import InspectorScreen
from inspector.tui.widgets.task_progress import TaskProgress

# (key, label, colour) of the rates drawn against strength; the same colours as the table's columns.
RATES = [
    ("leak_rate", "leak rate (everyday prompts)", "red"),
    ("regurgitation_rate", "regurgitation", "orange"),
    ("probe_hit_rate", "probe hits (property kept)", "green"),
]
NATURAL = [("ppl_ratio", "perplexity x base", "cyan"), ("kl_mean", "KL(base || organism), nats", "magenta")]


def draw(plot: PlotextPlot, points: list[dict[str, Any]], series: list[tuple[str, str, str]], title: str) -> int:
    """Each measure as a line over the strengths swept, its 95% interval as a vertical stroke at each point;
    returns how many measures had values."""
    plt = plot.plt
    plt.clear_data()
    plt.clear_figure()
    scaled = [p for p in points if p["scale"] is not None]
    drawn = 0
    for key, label, colour in series:
        have = [p for p in scaled if p.get(key) is not None]
        if not have:
            continue
        drawn += 1
        xs = [float(p["scale"]) for p in have]
        plt.plot(xs, [float(p[key]) for p in have], marker="dot", color=colour, label=label)
        for p in have:
            ci = p.get(f"{key}_ci")
            if ci:
                plt.plot([float(p["scale"])] * 2, [float(ci[0]), float(ci[1])], marker="│", color=colour)
    plt.title(title)
    plt.xlabel("adapter strength")
    plot.refresh()
    return drawn


class SweepScreen(InspectorScreen):
    """Shows the session's latest sweep snapshot; S sweeps this pair as `inspector sweep` does with its defaults,
    Esc stops it (what finished is kept, and S again resumes)."""

    BINDINGS = [
        Binding("r", "refresh", "Refresh", id="sweep.refresh", tooltip="Read the latest sweep again"),
        Binding(
            "S",
            "start_sweep",
            "Sweep",
            id="sweep.start",
            tooltip="Sweep this pair's adapter strength (the default strengths and prompts) and keep it in the session",
        ),
        Binding("escape", "stop_sweep", "Stop", id="sweep.stop", tooltip="Stop the sweep; a new one resumes it"),
    ]

    # The strength boxes are not focused on arrival, so the screen's keys work at once; Enter in a box starts.
    AUTO_FOCUS = ""  # (None would mean the app's, which is the first focusable widget)

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static("", id="sweep-title")
        with Horizontal(id="sweep-inputs"):
            yield Label("strengths:")
            yield Input(value=DEFAULT_SCALES, id="sweep-scales")
            yield Label("prompts:")
            yield Input(value="60", id="sweep-limit", type="integer")
            yield Label("max tokens:")
            yield Input(value="96", id="sweep-max-tokens", type="integer")
        yield TaskProgress(id="sweep-progress")
        yield PlotextPlot(id="sweep-rates")
        yield PlotextPlot(id="sweep-natural")
        yield DataTable(id="sweep-table", cursor_type="none")
        yield Footer()

    def on_mount(self) -> None:
        self.action_refresh()

    def on_screen_resume(self) -> None:
        self.action_refresh()

    def action_refresh(self) -> None:
        self.show(self.inspector.workbench.store.latest_snapshot("sweep"))

    def show(self, snap: dict[str, Any] | None) -> None:
        title = self.query_one("#sweep-title", Static)
        table = self.query_one("#sweep-table", DataTable)
        table.clear(columns=True)
        rates, natural = self.query_one("#sweep-rates", PlotextPlot), self.query_one("#sweep-natural", PlotextPlot)
        if snap is None:
            title.update(
                "No sweep in this session yet: press S to sweep this pair (or run"
                " `inspector sweep --session NAME --pair PAIR`)."
            )
            rates.display = natural.display = False
            return
        sweep = snap["metrics"]
        points = sweep["points"]
        title.update(
            f"Sweep · pair {sweep['pair']} · measured {str(snap['created_at'])[:16]} · {recommendation_line(sweep)}"
            " · the base's rates are the table's first row"
        )
        rates.display = True
        draw(rates, points, RATES, "rates against strength (95% intervals)")
        natural.display = draw(natural, points, NATURAL, "naturalness against strength (95% intervals)") > 0
        header, *rows = sweep_table(sweep)
        table.add_columns(*header)
        for row in rows:
            table.add_row(*row)

    @on(Input.Submitted)
    def _submitted(self) -> None:
        self.action_start_sweep()

    def action_start_sweep(self) -> None:
        scales = self.query_one("#sweep-scales", Input).value
        try:
            limit = int(self.query_one("#sweep-limit", Input).value or "60")
            max_tokens = int(self.query_one("#sweep-max-tokens", Input).value or "96")
        except ValueError:
            self.notify("prompts and max tokens must be whole numbers", severity="error")
            return
        self.query_one(TaskProgress).start("sweep")
        self._sweep(scales, limit, max_tokens)

    def action_stop_sweep(self) -> None:
        self.workers.cancel_group(self, "sweep")

    @work(thread=True, exclusive=True, group="sweep")
    def _sweep(self, scales: str, limit: int, max_tokens: int) -> None:
        from inspector.actions.sweep import plan_sweep, run_sweep, sweep_backends

        worker = get_current_worker()
        wb = self.inspector.workbench
        cache = self.inspector.settings.cache

        def step(stage: str, done: int, total: int) -> None:
            self.post_message(TaskAdvanced("sweep", stage, done, total))

        try:
            if wb.pair is None:
                raise InspectorError("no pair for this session")
            plan = plan_sweep(wb.pair, cache, scales, limit=limit, max_tokens=max_tokens)
            backends = sweep_backends(plan, cache)
            try:
                sweep = run_sweep(wb.store, plan, backends, cache, step, lambda: worker.is_cancelled)
            finally:
                for b in backends.values():
                    b.close()
            done = "stopped: what finished is kept, S resumes" if sweep is None else "finished and kept in the session"
            self.post_message(TaskAdvanced("sweep", done, 1, 1, finished=True))
        except InspectorError as e:
            self.post_message(TaskAdvanced("sweep", "", 0, 0, finished=True, error=str(e)))

    def on_task_advanced(self, msg: TaskAdvanced) -> None:
        if self.query_one(TaskProgress).follow(msg):
            self.action_refresh()
