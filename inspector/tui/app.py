"""The Textual application: modes for Compare, Label, Summary and Sessions over one Workbench."""

from __future__ import annotations

import os
import tomllib
from pathlib import Path

from textual import work
from textual.app import App
from textual.binding import Binding
from textual.screen import Screen

from inspector.actions.workbench import Workbench
from inspector.config import Settings
from inspector.engine.base import EngineError
from inspector.engine.pair_spec import Pair
from inspector.engine.registry import get_pair, load_pairs
from inspector.errors import InspectorError
from inspector.store import Store, StoreError
from inspector.tui.palette import InspectorCommands
from inspector.tui.screen_names import SCREENS
from inspector.tui.screens.base import InspectorScreen
from inspector.tui.screens.compare import CompareScreen
from inspector.tui.screens.help import HelpScreen
from inspector.tui.screens.label import LabelScreen
from inspector.tui.screens.naturalness import NaturalnessScreen
from inspector.tui.screens.sessions import SessionsScreen
from inspector.tui.screens.summary import SummaryScreen
from inspector.tui.screens.sweep import SweepScreen

SCREEN_CLASSES: list[tuple[str, type[Screen[None]]]] = [
    ("compare", CompareScreen),
    ("label", LabelScreen),
    ("summary", SummaryScreen),
    ("sessions", SessionsScreen),
    ("naturalness", NaturalnessScreen),
    ("sweep", SweepScreen),
]
assert tuple(name for name, _ in SCREEN_CLASSES) == SCREENS  # one list of names, its classes here


def load_keymap(path: Path | None) -> dict[str, str]:
    """binding id = "keys" lines from a TOML file, so a labeler can remap keys without touching code."""
    if path is None or not path.exists():
        return {}
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as e:
        raise InspectorError(f"{path}: invalid keymap ({e})") from e
    return {str(k): str(v) for k, v in data.items()}


class InspectorApp(App[None]):
    """Holds the Workbench; every screen reaches the core through it."""

    CSS_PATH = "app.tcss"
    TITLE = "organism-inspector"
    MODES = dict(SCREEN_CLASSES)
    DEFAULT_MODE = "compare"
    COMMANDS = App.COMMANDS | {InspectorCommands}
    BINDINGS = [
        Binding("f2", "switch_mode('compare')", "Compare", id="app.compare", tooltip="Side-by-side comparison"),
        Binding("f3", "switch_mode('label')", "Label", id="app.label", tooltip="The label queue"),
        Binding("f4", "switch_mode('summary')", "Summary", id="app.summary", tooltip="Leak rates and intervals"),
        Binding("f5", "switch_mode('sessions')", "Sessions", id="app.sessions", tooltip="Open sessions, start runs"),
        Binding(
            "f6",
            "switch_mode('naturalness')",
            "Naturalness",
            id="app.naturalness",
            tooltip="Perplexity, drift and preference coherence, organism and base side by side",
        ),
        Binding(
            "f7",
            "switch_mode('sweep')",
            "Sweep",
            id="app.sweep",
            tooltip="Leaks, regurgitation and probe hits against the adapter's strength",
        ),
        Binding(
            "ctrl+f", "search", "Search", id="app.search", tooltip="Search prompts and completions (text or regex)"
        ),
        Binding("question_mark", "help", "Help", id="app.help", tooltip="Every key, from the bindings"),
        Binding("ctrl+q", "quit", "Quit", id="app.quit", tooltip="Leave (labels are already saved)"),
    ]

    def __init__(
        self,
        workbench: Workbench,
        *,
        start: str = "compare",
        max_tokens: int = 96,
        temperature: float = 0.7,
        seed: int = 0,
        keymap: dict[str, str] | None = None,
    ) -> None:
        super().__init__()
        self.workbench = workbench
        workbench.notify = self.fleet_notice
        self.settings = workbench.settings
        self.start_mode = start
        self.max_tokens = max_tokens
        self.temperature = temperature
        self.settings_seed = seed
        self.blind = False
        self.pair_error: str | None = None
        self._keymap = keymap or {}

    def on_mount(self) -> None:
        if self._keymap:
            self.set_keymap(self._keymap)
        self.switch_mode(self.start_mode)
        # A run or another labeler may write to this session from another process (see store/remote.py): what
        # they add shows within two seconds. One cheap query (or call to the holder) per tick.
        self._version: tuple[int, ...] | None = None
        self._poll_failed = False
        self.set_interval(2.0, self.poll_session)
        if self.pair_error:
            self.notify(f"no model pair, generation is off: {self.pair_error}", severity="warning", timeout=15)

    def on_unmount(self) -> None:
        self.workbench.close()

    def poll_session(self) -> None:
        try:
            version = self.workbench.store.data_version()
        except StoreError as e:
            if not self._poll_failed:  # said once, not every two seconds
                self.notify(str(e), severity="error", timeout=15)
            self._poll_failed = True
            return
        self._poll_failed = False
        changed = self._version is not None and version != self._version
        self._version = version
        screen = self.screen
        if changed and isinstance(screen, InspectorScreen):
            screen.session_changed()

    # -- actions ------------------------------------------------------------------------------------------
    def action_help(self) -> None:
        groups = [("everywhere", [b for b in self.BINDINGS if isinstance(b, Binding)])]
        groups += [(n, [b for b in cls.BINDINGS if isinstance(b, Binding)]) for n, cls in SCREEN_CLASSES]
        self.push_screen(HelpScreen(groups, dict(self._keymap)))

    def action_search(self) -> None:
        from inspector.tui.screens.search import SearchScreen

        def opened(found: tuple[str, int] | None) -> None:
            if found is None:
                return
            self.switch_mode("compare")
            screen = self.screen
            if isinstance(screen, CompareScreen):
                screen.open_prompt(*found)

        self.push_screen(SearchScreen(self.workbench.store), opened)

    def action_toggle_blind(self) -> None:
        self.blind = not self.blind
        self.notify(f"blind labeling {'on' if self.blind else 'off'}")

    def pair_names(self) -> list[str]:
        try:
            return sorted(load_pairs(self.settings.models_file))
        except EngineError:
            return []

    def action_switch_pair(self, name: str) -> None:
        try:
            pair = get_pair(self.settings.models_file, name)
        except EngineError as e:
            self.notify(str(e), severity="error")
            return
        self.workbench.close()
        # A new pair starts under its own system prompt (a raw pair can have none).
        self.workbench = Workbench(
            self.settings,
            self.workbench.store,
            pair,
            self.workbench.labeler,
            system=pair.system_prompt,
            notify=self.fleet_notice,
        )
        self.notify(f"pair {name}: models load on the next generation")

    def fleet_notice(self, line: str) -> None:
        """A served side's replica left the fleet or came back: a toast, from whichever thread saw it."""
        try:
            self.call_from_thread(self.notify, line, severity="warning", timeout=10)
        except RuntimeError:  # already on the app's own thread
            self.notify(line, severity="warning", timeout=10)

    def system_prompts(self) -> list[str]:
        """System prompts worth offering: the pair's and those of the session's prompts."""
        found = [self.workbench.pair.system_prompt] if self.workbench.pair and self.workbench.pair.system_prompt else []
        return list(dict.fromkeys(found + self.workbench.store.system_prompts()))

    def action_set_system(self, system: str | None) -> None:
        pair = self.workbench.pair
        if system and (pair is None or pair.format == "raw"):
            name = pair.name if pair else "none"
            self.notify(f"pair {name} is in raw format: a system prompt has nowhere to go", severity="error")
            return
        self.workbench.system = system
        self.notify(f"system prompt: {system if system else 'none'}")
        if hasattr(self.screen, "show_stored"):
            self.screen.show_stored()

    def open_session(self, path: Path) -> None:
        if self.workbench.store.path is not None and path.resolve() == self.workbench.store.path.resolve():
            return
        store = Store.open(path)
        old = self.workbench
        self.workbench = Workbench(
            self.settings, store, old.pair, old.labeler, system=old.system, notify=self.fleet_notice
        )
        old.close()
        old.store.close()

    def action_start(self, mode: str, action: str) -> None:
        """Switch to a screen and start its long task there, where its progress shows."""
        self.switch_mode(mode)
        self.call_after_refresh(self.screen.run_action, action)

    @work(thread=True, exclusive=True, group="export")
    def action_export(self, fmt: str) -> None:
        from inspector.formats.rollout_files import export_session

        store = self.workbench.store
        stem = store.path.stem if store.path else "session"
        out = self.settings.home / "exports" / f"{stem}.{fmt}"
        out.parent.mkdir(parents=True, exist_ok=True)
        n = export_session(store, out, fmt)
        self.call_from_thread(self.notify, f"exported {n} rollouts to {out}")

    @work(thread=True, exclusive=True, group="detect")
    def action_redetect(self) -> None:
        from inspector.actions.detect import detect_session

        wb = self.workbench
        det = wb.detectors()
        if det is None or wb.pair is None:
            self.call_from_thread(self.notify, "no pair: nothing to detect with", severity="error")
            return
        done = detect_session(wb.store, wb.pair, self.settings.cache, det)
        judged = f"; {done.judged} prompt topics settled by the base model's probe" if done.judged else ""
        self.call_from_thread(self.notify, f"detectors re-ran on {done.scanned} rollouts{judged}")

    @work(thread=True, exclusive=True, group="sample")
    def action_draw_sample(self, n: int, unflagged: int = 0) -> None:
        from inspector.actions.label_queues import draw_sample

        queue = draw_sample(self.workbench.store, n, ("model", "topic"), seed=0, unflagged=unflagged)
        self.call_from_thread(self.notify, f"drew label queue '{queue.name}' of {queue.size} rollouts")


def run_app(
    settings: Settings, session: str, pair: Pair | None, pair_error: str | None, screen: str, system: str | None = None
) -> int:
    """Open the session and pair, then hand the terminal to Textual; `pair_error` says why there is no pair;
    `system`: the system prompt generation starts under."""
    keymap = load_keymap(Path(os.environ["INSPECTOR_KEYMAP"]) if os.environ.get("INSPECTOR_KEYMAP") else None)
    store = Store.open(settings.session_path(session))
    if store.count("prompts") == 0:
        # A new session starts with the default prompt set listed, so `g` works on the first screen.
        from inspector.formats.prompt_files import load_prompts

        store.upsert_prompts(load_prompts(None))
    app = InspectorApp(Workbench(settings, store, pair, system=system), start=screen, keymap=keymap)
    app.pair_error = pair_error
    try:
        app.run()
    finally:
        store.close()
    return 0
