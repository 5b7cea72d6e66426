"""A long task's progress line: a bar and what the task is doing, for the panel and the sweep started from the app."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widgets import ProgressBar, Static

from inspector.tui.messages import TaskAdvanced


class TaskProgress(Vertical):
    """Hidden until a task starts; shows its stage and count, then how it ended (the result stays on screen)."""

    DEFAULT_CSS = """
    TaskProgress { height: auto; display: none; }
    TaskProgress.-active { display: block; }
    """

    def compose(self) -> ComposeResult:
        yield ProgressBar(show_eta=True)
        yield Static("", classes="task-status")

    def start(self, what: str) -> None:
        self.add_class("-active")
        self.query_one(ProgressBar).update(total=None, progress=0)
        self.query_one(Static).update(f"{what}: loading models…")

    def advance(self, stage: str, done: int, total: int) -> None:
        self.query_one(ProgressBar).update(total=total or None, progress=done)
        self.query_one(Static).update(f"{stage}: {done} / {total}" if total else stage)

    def finish(self, text: str) -> None:
        bar = self.query_one(ProgressBar)
        bar.update(total=1, progress=1)
        self.query_one(Static).update(text)

    def follow(self, msg: TaskAdvanced) -> bool:
        """Show what the task's worker posted; True once it has finished well (the screen then reads the result)."""
        if msg.error:
            self.finish(f"{msg.task} failed: {msg.error}")
        elif msg.finished:
            self.finish(f"{msg.task} {msg.stage}")
        else:
            self.advance(msg.stage, msg.done, msg.total)
        return msg.finished and not msg.error
