"""Command palette entries for the rare actions: export, switch pair, re-run detectors, draw a sample, measure the
naturalness panel, sweep the adapter strength, set the system prompt."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import TYPE_CHECKING

from textual.command import DiscoveryHit, Hit, Hits, Provider

if TYPE_CHECKING:
    from inspector.tui.app import InspectorApp


class InspectorCommands(Provider):
    """Commands built from the app's current state (the pairs file is read when the palette opens)."""

    def _commands(self) -> list[tuple[str, Callable[[], object], str]]:
        app: InspectorApp = self.app  # type: ignore[assignment]
        cmds: list[tuple[str, Callable[[], object], str]] = [
            (
                "Export session as JSONL",
                partial(app.action_export, "jsonl"),
                "Write every rollout with spans and labels",
            ),
            ("Export session as CSV", partial(app.action_export, "csv"), "Flattened spans, one row per rollout"),
            ("Export session as Parquet", partial(app.action_export, "parquet"), "Nested spans and labels"),
            (
                "Re-run detectors",
                app.action_redetect,
                "Recompute spans for every rollout and settle guessed prompt topics, as `inspector detect` does",
            ),
            (
                "Measure the naturalness panel",
                partial(app.action_start, "naturalness", "measure"),
                "Perplexity, drift and preference coherence on this pair, kept in the session",
            ),
            (
                "Sweep the adapter strength",
                partial(app.action_start, "sweep", "start_sweep"),
                "Leaks, regurgitation and probe hits at each strength, kept in the session",
            ),
            ("Draw a label sample of 300", partial(app.action_draw_sample, 300), "Stratified by model and topic"),
            (
                "Draw a validation sample (240 flagged + 60 unflagged)",
                partial(app.action_draw_sample, 240, 60),
                "Unflagged items show what the detectors miss: precision, recall and a corrected leak rate",
            ),
            ("Toggle blind labeling", app.action_toggle_blind, "Hide which model wrote a text in the label queue"),
        ]
        cmds.append(("System prompt: none", partial(app.action_set_system, None), "Generate without a system prompt"))
        for text in app.system_prompts():
            cmds.append(
                (f"System prompt: {text[:60]}", partial(app.action_set_system, text), "Generate under this one")
            )
        cmds.append(
            ("System prompt: type one", partial(app.action_start, "compare", "type_system"), "Generate under it")
        )
        for name in app.pair_names():
            cmds.append((f"Switch pair: {name}", partial(app.action_switch_pair, name), "Use this organism/base pair"))
        return cmds

    async def discover(self) -> Hits:
        for name, callback, help_text in self._commands():
            yield DiscoveryHit(name, callback, help=help_text)

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for name, callback, help_text in self._commands():
            score = matcher.match(name)
            if score > 0:
                yield Hit(score, matcher.highlight(name), callback, help=help_text)
