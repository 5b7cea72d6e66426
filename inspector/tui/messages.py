"""Messages that thread workers post back to the UI (post_message is thread-safe; widget methods are not)."""

from __future__ import annotations

from typing import Any

from textual.message import Message


class Token(Message):
    """A streamed piece of one model's completion, with when the worker received it (time.perf_counter)."""

    def __init__(self, role: str, text: str, generation: int, at: float = 0.0) -> None:
        super().__init__()
        self.role, self.text, self.generation, self.at = role, text, generation, at


class Finished(Message):
    """One model finished (or was cancelled / failed) for a generation request."""

    def __init__(
        self, role: str, generation: int, rollout_id: int | None, text: str, spans: list[dict[str, Any]], status: str
    ) -> None:
        super().__init__()
        self.role, self.generation, self.rollout_id = role, generation, rollout_id
        self.text, self.spans, self.status = text, spans, status


class RunProgress(Message):
    """A batch run advanced."""

    def __init__(
        self, done: int, total: int, tokens_per_s: float, finished: bool = False, error: str | None = None
    ) -> None:
        super().__init__()
        self.done, self.total, self.tokens_per_s = done, total, tokens_per_s
        self.finished, self.error = finished, error


class ReportReady(Message):
    """The summary report was computed off the UI thread."""

    def __init__(self, report: dict[str, Any]) -> None:
        super().__init__()
        self.report = report


class TaskAdvanced(Message):
    """A long task started from the app (the naturalness panel, a sweep) advanced, finished or failed."""

    def __init__(
        self, task: str, stage: str, done: int, total: int, finished: bool = False, error: str | None = None
    ) -> None:
        super().__init__()
        self.task, self.stage, self.done, self.total = task, stage, done, total
        self.finished, self.error = finished, error
