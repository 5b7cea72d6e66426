"""Summary: per model, leak rates with intervals and labeled fractions, and a bar chart."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Header, Static

from inspector.tui.messages import ReportReady
from inspector.tui.widgets.bar_chart import BarChart

if TYPE_CHECKING:
    from inspector.tui.app import InspectorApp


def _pct(value: float | None, ci: list[float] | None = None) -> str:
    if value is None:
        return "—"
    return f"{value:.1%}" + (f" [{ci[0]:.1%}, {ci[1]:.1%}]" if ci else "")


class SummaryScreen(Screen[None]):
    """Computed in a thread worker: a large session's queries must not freeze the UI."""

    BINDINGS = [Binding("r", "refresh", "Refresh", id="summary.refresh", tooltip="Recompute from the session")]

    @property
    def inspector(self) -> InspectorApp:
        return self.app  # type: ignore[return-value]

    def compose(self) -> ComposeResult:
        yield Header()
        with VerticalScroll(id="summary-body"):
            yield Static("computing…", id="summary-title")
            yield DataTable(id="summary-table", zebra_stripes=True, cursor_type="row")
            yield BarChart(id="summary-chart")
            yield Static("", id="summary-paired")
        yield Footer()

    def on_mount(self) -> None:
        table = self.query_one(DataTable)
        # Fixed widths: the rows arrive from a worker, and auto-sized columns would depend on timing.
        for label, width in (
            ("model", 16),
            ("rollouts", 8),
            ("leaks", 6),
            ("leak rate [95% CI]", 22),
            ("unrelated-prompt leak rate", 26),
            ("labeled leaks", 13),
            ("non-sequitur", 24),
            ("quirk among non-seq.", 24),
        ):
            table.add_column(label, width=width)
        self.action_refresh()

    def on_screen_resume(self) -> None:
        self.action_refresh()

    def action_refresh(self) -> None:
        self._compute()

    @work(thread=True, exclusive=True, group="summary")
    def _compute(self) -> None:
        from inspector.report import build_report

        self.post_message(ReportReady(build_report(self.inspector.workbench.store)))

    def on_report_ready(self, msg: ReportReady) -> None:
        self.show(msg.report)

    def show(self, report: dict[str, Any]) -> None:
        table = self.query_one(DataTable)
        table.clear()
        rows = []
        for name, m in report["models"].items():
            table.add_row(
                name,
                str(m["n_rollouts"]),
                str(m["n_leaks"]),
                _pct(m["leak_rate"], m["leak_rate_ci"]),
                _pct(m["unrelated_leak_rate"], m["unrelated_leak_rate_ci"]),
                str(m["n_labeled_leaks"]),
                _pct(m["non_sequitur_fraction"], m["non_sequitur_fraction_ci"]),
                _pct(m["quirk_fraction"], m["quirk_fraction_ci"]),
            )
            ci = m["leak_rate_ci"] or [None, None]
            rows.append((f"{name} leak rate", m["leak_rate"], ci[0], ci[1]))
            uci = m["unrelated_leak_rate_ci"] or [None, None]
            rows.append((f"{name} unrelated", m["unrelated_leak_rate"], uci[0], uci[1]))
        self.query_one(BarChart).plot(rows)
        who = report.get("labeler") or "nobody yet"
        self.query_one("#summary-title", Static).update(f"Leak summary · labels by {who}")
        d = report.get("paired_difference")
        lines = []
        if d:
            lines.append(
                f"organism − base (paired, {d['n_pairs']} pairs): {d['difference']:+.1%} "
                f"[{d['ci'][0]:+.1%}, {d['ci'][1]:+.1%}] · only organism leaked {d['organism_only']}, only base "
                f"{d['base_only']} · exact McNemar p = {d['mcnemar_exact_p']:.3g} · {d['method']}"
            )
        k = report.get("kappa")
        if k:
            lines.append(f"Cohen's kappa {k['labelers'][0]} vs {k['labelers'][1]}: {k['kappa']:.2f} on {k['n_items']}")
        self.query_one("#summary-paired", Static).update("\n".join(lines) or "no organism/base pairs yet")
