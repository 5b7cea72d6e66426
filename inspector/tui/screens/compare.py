"""Compare (home): prompts on the left, organism and base completions side by side, streaming live."""

from __future__ import annotations

import random
import time
from dataclasses import replace
from typing import Any

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.widgets import Footer, Header, Input, OptionList, Static
from textual.worker import get_current_worker

from inspector.engine.base import ROLES, GenParams
from inspector.errors import InspectorError
from inspector.store import Filters, PromptRow
from inspector.tui.highlight import first_divergence, pane_subtitle, prompt_line, trace_span
from inspector.tui.messages import Finished, Token
from inspector.tui.screens.base import InspectorScreen
from inspector.tui.speed import StreamSpeed
from inspector.tui.widgets.completion_pane import CompletionPane
from inspector.tui.widgets.legend import Legend
from inspector.tui.widgets.prompt_list import PromptList

PROMPT_PLACEHOLDER = "Type a prompt and press Enter (Esc to leave)"


class CompareScreen(InspectorScreen):
    """Generate on a prompt with both models at once, same seed and settings, and compare."""

    BINDINGS = [
        Binding("g", "generate", "Generate", id="compare.generate", tooltip="Run both models on this prompt"),
        Binding("r", "reroll", "Re-roll", id="compare.reroll", tooltip="Generate again with a new seed"),
        Binding(
            "right_square_bracket",
            "sample(1)",
            "Next sample",
            id="compare.next_sample",
            tooltip="Show the next stored sample of this prompt",
        ),
        Binding(
            "left_square_bracket",
            "sample(-1)",
            "Prev sample",
            id="compare.prev_sample",
            tooltip="Show the previous stored sample of this prompt",
        ),
        Binding(
            "slash",
            "type_prompt",
            "Type prompt",
            id="compare.type_prompt",
            tooltip="Type a new prompt to run on both models",
        ),
        Binding(
            "s",
            "source",
            "Span source",
            id="compare.source",
            tooltip="Open the training document behind the next regurgitated span",
        ),
        Binding("escape", "cancel", "Cancel", id="compare.cancel", tooltip="Stop both generations"),
        Binding("f", "filters", "Filters", id="compare.filters", tooltip="Filter the prompt list (remembered)"),
        Binding(
            "F",
            "fill",
            "Fill session",
            id="compare.fill",
            tooltip="Run both models over the default prompts (as R on the Sessions screen, where its progress shows)",
        ),
        Binding(
            "o",
            "strength",
            "Strength",
            id="compare.strength",
            tooltip="Show the organism at the next adapter strength this session holds (a sweep's)",
        ),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.prompts: list[dict[str, Any]] = []
        self.sample = 0
        self.seed = 0
        self.generation = 0  # which request the streaming messages belong to
        self.running: set[str] = set()
        self.status: dict[str, str] = {}
        self.shown_prompt: str | None = None
        self._source_cursor = 0
        self.typing_system = False  # the prompt box is taking a system prompt, not a prompt
        self.filters = Filters()
        self.speed: dict[str, StreamSpeed] = {}  # per side, of the generation streaming or last finished
        self.organism: tuple[str, str] | None = None  # (model id, name) shown; None: the newest run's

    def compose(self) -> ComposeResult:
        yield Header()
        with Horizontal(id="compare-body"):
            yield PromptList(id="prompts")
            with Vertical(id="panes-column"):
                with Horizontal(id="panes"):
                    yield CompletionPane("organism", id="pane-organism", classes="pane")
                    yield CompletionPane("base", id="pane-base", classes="pane")
                yield Input(placeholder=PROMPT_PLACEHOLDER, id="prompt-input", classes="hidden")
                yield Legend(id="legend")
                yield Static("", id="compare-filters", classes="hidden")
                yield Static("", id="compare-status")
        yield Footer()

    def on_mount(self) -> None:
        self.seed = self.inspector.settings_seed
        self.filters = self.inspector.workbench.store.saved_filters("compare")
        self.refresh_prompts()
        wb = self.inspector.workbench
        if wb.pair is not None and wb.store.count("rollouts") == 0:
            # A session opened for the first time (the demo's, say) has prompts and nothing to compare yet.
            self.notify(
                "No rollout in this session yet: press F to fill it (both models over the default prompts,"
                " progress on the Sessions screen), or g to generate the highlighted prompt alone.",
                timeout=20,
            )

    def action_fill(self) -> None:
        self.inspector.action_start("sessions", "run")

    def refresh_prompts(self) -> None:
        wb = self.inspector.workbench
        if self.filters.active():
            self.prompts = wb.store.filtered_prompts(self.filters, wb.labeler)
        else:
            self.prompts = wb.store.prompt_list()
        line = self.query_one("#compare-filters", Static)
        line.update(f"{self.filters.describe()} · {len(self.prompts)} prompts (f changes)")
        line.display = self.filters.active()
        self.query_one(PromptList).load(self.prompts)
        if not self.prompts:
            self.set_status("No prompts in this session yet: press / to type one, or start a run (F5).")
        self.query_one(PromptList).focus()

    def set_status(self, text: str) -> None:
        self.query_one("#compare-status", Static).update(text)

    def current_prompt(self) -> dict[str, Any] | None:
        idx = self.query_one(PromptList).highlighted
        if idx is None or idx >= len(self.prompts):
            return None
        return self.prompts[idx]

    @on(OptionList.OptionHighlighted, "#prompts")
    def _prompt_changed(self) -> None:
        p = self.current_prompt()
        # Reloading the list (new markers) re-highlights the same prompt: keep what the panes show.
        if p is None or str(p["id"]) == self.shown_prompt:
            return
        self.sample = 0
        self.show_stored()

    def show_stored(self) -> None:
        """Show the stored rollouts of the highlighted prompt and sample."""
        p = self.current_prompt()
        if p is None or self.running:
            return
        store = self.inspector.workbench.store
        self.shown_prompt = str(p["id"])
        pair = store.side_by_side(str(p["id"]), self.sample, self.organism[0] if self.organism else None)
        n_samples = store.samples_for(str(p["id"]))
        texts = {r: str(pair[r]["text"]) if r in pair else "" for r in ROLES}
        seeds = {r: pair[r]["seed"] if r in pair else None for r in ROLES}
        diverge = first_divergence(texts["organism"], texts["base"]) if seeds["organism"] == seeds["base"] else None
        for role in ROLES:
            row = pair.get(role)
            pane = self.query_one(f"#pane-{role}", CompletionPane)
            spans = trace_span(row) + (store.spans_for(int(row["id"])) if row else [])
            sample = f"sample {self.sample + 1}/{max(n_samples, 1)}  seed {seeds[role]}"
            strength = self.organism[1] if role == "organism" and self.organism is not None else None
            sub = pane_subtitle(row, sample, strength, diverge)
            pane.show(texts[role], spans, sub, diverge, int(row["id"]) if row else None)
        self._source_cursor = 0
        self.query_one("#compare-status", Static).update(prompt_line(p, self.inspector.workbench.system))

    def action_strength(self) -> None:
        """Cycle the organism's pane through the strengths stored (weakest first), then back to the newest run."""
        strengths = self.inspector.workbench.store.organism_strengths()
        if len(strengths) < 2:
            self.notify("This session holds the organism at one strength only (run `inspector sweep` for more).")
            return
        options: list[tuple[str, str] | None] = [None, *[(i, n) for i, n, _ in strengths]]
        at = options.index(self.organism) if self.organism in options else 0
        self.organism = options[(at + 1) % len(options)]
        self.notify(f"organism: {self.organism[1] if self.organism else 'the newest run'}")
        self.show_stored()

    def open_prompt(self, prompt_id: str, sample: int) -> None:
        """Show one stored prompt and sample (a search result); filters that hide it are cleared."""
        ids = [str(p["id"]) for p in self.prompts]
        if prompt_id not in ids and self.filters.active():
            self.filters = Filters()
            self.inspector.workbench.store.save_filters("compare", self.filters)
            self.refresh_prompts()
            ids = [str(p["id"]) for p in self.prompts]
            self.notify("filters cleared to show the search result", timeout=2)
        if prompt_id not in ids:
            return
        self.sample = sample
        self.shown_prompt = None
        self.query_one(PromptList).highlighted = ids.index(prompt_id)
        self.shown_prompt = prompt_id
        self.show_stored()

    def action_filters(self) -> None:
        from inspector.tui.screens.filters import FilterScreen

        store = self.inspector.workbench.store

        def apply(chosen: Filters | None) -> None:
            if chosen is not None:
                self.filters = chosen
                store.save_filters("compare", chosen)
                self.refresh_prompts()

        self.app.push_screen(FilterScreen(self.filters, store.topics(), store.run_ids()), apply)

    # -- actions ---------------------------------------------------------------------------------------
    def action_sample(self, step: int) -> None:
        p = self.current_prompt()
        if p is None:
            return
        n = self.inspector.workbench.store.samples_for(str(p["id"]))
        if n:
            self.sample = (self.sample + step) % n
            self.show_stored()

    def action_type_prompt(self) -> None:
        box = self.query_one("#prompt-input", Input)
        self.typing_system = False
        box.placeholder = PROMPT_PLACEHOLDER
        box.remove_class("hidden")
        box.focus()

    def action_type_system(self) -> None:
        """The same box, for the system prompt the next generations are asked under (empty: none)."""
        self.action_type_prompt()
        self.typing_system = True
        self.query_one("#prompt-input", Input).placeholder = "system prompt for what is generated next (empty: none)"

    @on(Input.Submitted, "#prompt-input")
    def _typed(self, event: Input.Submitted) -> None:
        text = event.value.strip()
        event.input.value = ""
        event.input.add_class("hidden")
        if self.typing_system:
            self.typing_system = False
            self.inspector.action_set_system(text or None)
        elif text:
            row = self.inspector.workbench.add_prompt(text)
            self.start(row)

    def action_generate(self) -> None:
        p = self.current_prompt()
        if p is None:
            self.action_type_prompt()
            return
        # The stored conversation comes along: the same question under another system prompt is another prompt.
        row = PromptRow(str(p["id"]), str(p["text"]), topic=p.get("topic"), related=p.get("related"))
        self.start(replace(row, messages=p.get("messages")))

    def action_reroll(self) -> None:
        self.seed = random.randrange(1, 2**31)
        self.action_generate()

    def action_cancel(self) -> None:
        box = self.query_one("#prompt-input", Input)
        if box.has_focus:
            box.add_class("hidden")
            self.query_one(PromptList).focus()
            return
        if self.running:
            self.workers.cancel_group(self, "generate")
            self.set_status("cancelling…")

    def action_source(self) -> None:
        from inspector.tui.screens.source import SourceScreen

        spans = [
            s for r in ROLES for s in self.query_one(f"#pane-{r}", CompletionPane).spans if s["kind"] == "regurgitation"
        ]
        if not spans:
            self.notify("No regurgitated span in these completions.", severity="warning")
            return
        span = spans[self._source_cursor % len(spans)]
        self._source_cursor += 1
        doc = self.inspector.workbench.store.corpus_doc(str(span["doc_id"]))
        if doc is None:
            self.notify(f"Document {span['doc_id']} is not in this session.", severity="error")
            return
        self.app.push_screen(SourceScreen.for_span(span, doc))

    # -- generation ------------------------------------------------------------------------------------
    def start(self, prompt: PromptRow) -> None:
        if self.running:
            self.notify("Already generating: Esc cancels.", severity="warning")
            return
        if self.inspector.workbench.pair is None:
            self.notify(f"No model pair: {self.inspector.pair_error or 'give --pair'}", severity="error")
            return
        # The app's system prompt applies to whatever is generated: a listed prompt without one is asked under it.
        prompt = self.inspector.workbench.conditioned(prompt)
        self.generation += 1
        self.shown_prompt = prompt.id
        params = GenParams(
            seed=self.seed, temperature=self.inspector.temperature, top_p=0.95, max_tokens=self.inspector.max_tokens
        )
        for role in ROLES:
            self.query_one(f"#pane-{role}", CompletionPane).clear(f"seed {self.seed} · generating…")
            self.speed[role] = StreamSpeed()
            self.running.add(role)
            self._generate(role, prompt, params, self.generation)
        self.set_status(f"generating with seed {self.seed} (Esc cancels)")

    @work(thread=True, group="generate")
    def _generate(self, role: str, prompt: PromptRow, params: GenParams, generation: int) -> None:
        worker = get_current_worker()
        wb = self.inspector.workbench

        def on_token(text: str) -> None:
            self.post_message(Token(role, text, generation, time.perf_counter()))

        try:
            rid, gen = wb.generate_one(role, prompt, params, on_token=on_token, should_stop=lambda: worker.is_cancelled)
        except InspectorError as e:
            self.post_message(Finished(role, generation, None, "", [], f"error: {e}"))
            return
        except Exception as e:  # a bug must not leave the screen waiting for this side forever
            self.post_message(Finished(role, generation, None, "", [], f"error: {type(e).__name__}: {e}"))
            raise
        status = "cancelled" if gen.finish_reason == "cancelled" else "done"
        spans = wb.store.spans_for(rid) if rid is not None else wb.spans_for_text(gen.text, prompt.text)
        self.post_message(Finished(role, generation, rid, gen.text, spans, status))
        if rid is not None:
            self.app.call_from_thread(self._remember_prompt, prompt.id)

    def _remember_prompt(self, prompt_id: str) -> None:
        if all(str(p["id"]) != prompt_id for p in self.prompts):
            self.prompts = self.inspector.workbench.store.prompt_list()
            plist = self.query_one(PromptList)
            plist.load(self.prompts)
            for i, p in enumerate(self.prompts):
                if str(p["id"]) == prompt_id:
                    plist.highlighted = i

    def on_token(self, msg: Token) -> None:
        if msg.generation == self.generation:
            pane = self.query_one(f"#pane-{msg.role}", CompletionPane)
            pane.append(msg.text)
            speed = self.speed.get(msg.role)
            if speed is not None:
                speed.add(msg.at)
                pane.border_subtitle = f"seed {self.seed} · {speed.describe()}"

    def _done_line(self, role: str) -> str:
        speed = self.speed.get(role)
        return f"seed {self.seed} · {self.status.get(role, '')}" + (f" · {speed.describe()}" if speed else "")

    def on_finished(self, msg: Finished) -> None:
        if msg.generation != self.generation:
            return
        self.running.discard(msg.role)
        self.status[msg.role] = msg.status
        pane = self.query_one(f"#pane-{msg.role}", CompletionPane)
        stored = self.inspector.workbench.store.rollout(msg.rollout_id) if msg.rollout_id is not None else None
        pane.show(msg.text, trace_span(stored) + msg.spans, self._done_line(msg.role), None, msg.rollout_id)
        if msg.status.startswith("error"):
            self.notify(msg.status, severity="error")
        if not self.running:
            org, base = (self.query_one(f"#pane-{r}", CompletionPane) for r in ROLES)
            d = first_divergence(org.text, base.text)
            for pane_ in (org, base):
                sub = self._done_line(pane_.role) + (f"  diverges at char {d}" if d is not None else "")
                pane_.show(pane_.text, pane_.spans, sub, d, pane_.rollout_id)
            self.set_status(f"done (seed {self.seed}); r re-rolls with a new seed")
            self.refresh_markers()

    def refresh_markers(self) -> None:
        """New markers after a generation, without letting the list's re-highlight replace what is shown."""
        wb = self.inspector.workbench
        self.prompts = (
            wb.store.filtered_prompts(self.filters, wb.labeler) if self.filters.active() else wb.store.prompt_list()
        )
        self.query_one(PromptList).load(self.prompts)

    def session_changed(self) -> None:
        """A run in another process adds prompts and rollouts: the list's markers follow (not mid-generation)."""
        if not self.running:
            self.refresh_markers()
