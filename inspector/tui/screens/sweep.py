"""Sweep: leak rate, regurgitation and probe hit rate against the organism's adapter strength, with intervals, the
naturalness measures when the sweep took them, and the recommended strength."""

from __future__ import annotations

from typing import Any

from textual.app import ComposeResult
from textual.binding import Binding
from textual.widgets import DataTable, Footer, Header, Static
from textual_plotext import PlotextPlot

from inspector.sweep import recommendation_line, sweep_table
from inspector.tui.screens.base import InspectorScreen

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
    """Reads the session's latest sweep snapshot (made by `inspector sweep`)."""

    BINDINGS = [Binding("r", "refresh", "Refresh", id="sweep.refresh", tooltip="Read the latest sweep again")]

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static("", id="sweep-title")
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
            title.update("No sweep in this session yet: run `inspector sweep --session NAME --pair PAIR`.")
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
