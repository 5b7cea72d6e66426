"""Sessions and runs: open another session file, or start a batch run on this pair with a progress bar."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.widgets import DataTable, Footer, Header, Input, Label, ProgressBar, Static
from textual.worker import get_current_worker

from inspector.engine.base import EngineError, GenParams
from inspector.errors import InspectorError
from inspector.tui.messages import RunProgress
from inspector.tui.screens.base import InspectorScreen


class SessionsScreen(InspectorScreen):
    """Enter opens the highlighted session; R starts a run of the default prompts (limit in the box)."""

    BINDINGS = [
        Binding("enter", "open", "Open", id="sessions.open", tooltip="Open the highlighted session"),
        Binding(
            "R",
            "run",
            "Start run",
            id="sessions.run",
            tooltip="Run both models over the default prompts (limit from the box)",
        ),
        Binding(
            "escape",
            "cancel_run",
            "Stop run",
            id="sessions.stop",
            tooltip="Stop the batch run; finished rollouts are kept and a rerun resumes",
        ),
    ]

    def compose(self) -> ComposeResult:
        yield Header()
        with Vertical(id="sessions-body"):
            yield Static("", id="sessions-current")
            yield DataTable(id="sessions-table", cursor_type="row")
            with Horizontal(id="run-row"):
                yield Label("prompts to run:")
                yield Input(value="20", id="run-limit", type="integer")
                yield Label("max tokens:")
                yield Input(value="64", id="run-max-tokens", type="integer")
            yield ProgressBar(id="run-progress", show_eta=True)
            yield Static("", id="run-status")
        yield Footer()

    def on_mount(self) -> None:
        self.query_one(DataTable).add_columns("session", "size", "path")
        self.refresh_list()

    def refresh_list(self) -> None:
        folder = self.inspector.settings.sessions
        table = self.query_one(DataTable)
        table.clear()
        files = sorted(folder.glob("*.duckdb")) if folder.exists() else []
        for f in files:
            # With its write-ahead log: a session being written holds most of its recent rows there.
            wal = f.with_name(f.name + ".wal")
            size = f.stat().st_size + (wal.stat().st_size if wal.exists() else 0)
            table.add_row(f.stem, f"{size / 1e6:.1f} MB", str(f), key=str(f))
        self.session_changed()

    def session_changed(self) -> None:
        store = self.inspector.workbench.store
        pair = self.inspector.workbench.pair
        self.query_one("#sessions-current", Static).update(
            f"open: {store.path} · pair: {pair.name if pair else '—'} · {store.count('rollouts')} rollouts,"
            f" {store.count('labels')} label events\n{store.sharing()}"
        )

    def action_open(self) -> None:
        table = self.query_one(DataTable)
        if table.row_count == 0:
            return
        key = table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value
        if key is None:
            return
        try:
            self.inspector.open_session(Path(key))
        except (InspectorError, EngineError, OSError) as e:
            self.notify(str(e), severity="error")
            return
        self.refresh_list()
        self.notify(f"opened {key}")

    @on(DataTable.RowSelected)
    def _selected(self) -> None:
        self.action_open()

    def action_run(self) -> None:
        try:
            limit = int(self.query_one("#run-limit", Input).value or "20")
            max_tokens = int(self.query_one("#run-max-tokens", Input).value or "64")
        except ValueError:
            self.notify("limit and max tokens must be whole numbers", severity="error")
            return
        if limit < 1 or max_tokens < 1:
            self.notify("limit and max tokens must be at least 1", severity="error")
            return
        self.query_one("#run-status", Static).update("loading models…")
        self._run(limit, max_tokens)

    def action_cancel_run(self) -> None:
        self.workers.cancel_group(self, "batch")

    @work(thread=True, exclusive=True, group="batch")
    def _run(self, limit: int, max_tokens: int) -> None:
        from inspector.actions.run import run_rollouts
        from inspector.formats.prompt_files import load_prompts

        worker = get_current_worker()
        wb = self.inspector.workbench
        try:
            if wb.pair is None:
                raise InspectorError("no pair for this session")
            backends = wb.backends()

            def progress(p: Any) -> None:
                self.post_message(RunProgress(p.done, p.total, p.tokens / p.seconds if p.seconds else 0.0))

            done = run_rollouts(
                wb.store,
                wb.pair,
                backends,
                load_prompts(None)[:limit],
                GenParams(
                    seed=self.inspector.settings_seed, temperature=self.inspector.temperature, max_tokens=max_tokens
                ),
                cache=self.inspector.settings.cache,
                detectors=wb.detectors(),
                on_progress=progress,
                should_stop=lambda: worker.is_cancelled,
            )
            prog = done.progress
            self.post_message(
                RunProgress(prog.done, prog.total, prog.tokens / prog.seconds if prog.seconds else 0.0, finished=True)
            )
        except InspectorError as e:
            self.post_message(RunProgress(0, 0, 0.0, finished=True, error=str(e)))

    def on_run_progress(self, msg: RunProgress) -> None:
        bar = self.query_one("#run-progress", ProgressBar)
        status = self.query_one("#run-status", Static)
        if msg.error:
            status.update(f"run failed: {msg.error}")
            return
        bar.update(total=max(msg.total, 1), progress=msg.done)
        state = "finished" if msg.finished else "running (Esc stops)"
        status.update(f"{state}: {msg.done} / {msg.total} rollouts · {msg.tokens_per_s:.1f} tokens/s")
        if msg.finished:
            self.refresh_list()
