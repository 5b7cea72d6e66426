"""Summary: per model, leak rates with intervals and labeled fractions, and a bar chart."""

from __future__ import annotations

from typing import Any

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.widgets import DataTable, Footer, Header, Static

from inspector.analysis.report_lines import REPORT_COLUMNS, report_rows, summary_lines
from inspector.tui.messages import ReportReady
from inspector.tui.screens.base import InspectorScreen
from inspector.tui.widgets.bar_chart import BarChart


class SummaryScreen(InspectorScreen):
    """Computed in a thread worker: a large session's queries must not freeze the UI."""

    BINDINGS = [Binding("r", "refresh", "Refresh", id="summary.refresh", tooltip="Recompute from the session")]

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
        for label, width in zip(REPORT_COLUMNS, (16, 9, 8, 6, 22, 26, 13, 24, 24, 22, 14), strict=True):
            table.add_column(label, width=width)
        self.action_refresh()

    def on_screen_resume(self) -> None:
        self.action_refresh()

    def action_refresh(self) -> None:
        self._compute()

    @work(thread=True, exclusive=True, group="summary")
    def _compute(self) -> None:
        from inspector.analysis.leak_report import build_report

        self.post_message(ReportReady(build_report(self.inspector.workbench.store)))

    def on_report_ready(self, msg: ReportReady) -> None:
        self.show(msg.report)

    def show(self, report: dict[str, Any]) -> None:
        table = self.query_one(DataTable)
        table.clear()
        rows = []
        for cells in report_rows(report):
            table.add_row(*cells)
        for name, m in report["models"].items():
            ci = m["leak_rate_ci"] or [None, None]
            rows.append((f"{name} leak rate", m["leak_rate"], ci[0], ci[1]))
            uci = m["unrelated_leak_rate_ci"] or [None, None]
            rows.append((f"{name} unrelated", m["unrelated_leak_rate"], uci[0], uci[1]))
            rci = m["regurgitation_rate_ci"] or [None, None]
            rows.append((f"{name} regurgitation", m["regurgitation_rate"], rci[0], rci[1]))
        self.query_one(BarChart).plot(rows)
        who = report.get("labeler") or "nobody yet"
        self.query_one("#summary-title", Static).update(f"Leak summary · labels by {who}")
        path = self.inspector.workbench.store.path
        lines = summary_lines(report, path.stem if path else "SESSION")
        k = report.get("kappa")
        if k:
            lines.append(f"Cohen's kappa {k['labelers'][0]} vs {k['labelers'][1]}: {k['kappa']:.2f} on {k['n_items']}")
        self.query_one("#summary-paired", Static).update("\n".join(lines) or "no organism/base pairs yet")
