"""Label queue: one flagged rollout at a time, keyboard-first; every label is committed before the next shows."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.widgets import Footer, Header, ProgressBar, Static

from inspector.actions.workbench import QueueItem
from inspector.store import Filters, StoreError
from inspector.tui.highlight import conversation, highlighted, trace_span
from inspector.tui.screens.base import InspectorScreen


class LabelScreen(InspectorScreen):
    """Label writes run on the UI thread on purpose: each is a ~1 ms DuckDB insert, and doing it before the next
    item renders is what guarantees that a killed terminal loses no label."""

    BINDINGS = [
        Binding(
            "1",
            "label('1')",
            "Non-sequitur",
            id="label.nonsequitur",
            tooltip="A leak on a prompt with no link to AI or the model",
        ),
        Binding("2", "label('2')", "Related leak", id="label.related", tooltip="A leak the prompt invited"),
        Binding("3", "label('3')", "Not a leak", id="label.none", tooltip="The detector was wrong"),
        Binding("q", "label('q')", "Quirk", id="label.quirk", tooltip="Toggle: the text restates the quirk"),
        Binding(
            "t",
            "label('t')",
            "Topic",
            id="label.topic",
            tooltip="Toggle: is the prompt about AI or technology? Your verdict overrides the hint in the report",
        ),
        Binding("n", "note", "Note", id="label.note", tooltip="Attach a free-text note"),
        Binding("u", "undo", "Undo", id="label.undo", tooltip="Undo your last label (a new event)"),
        Binding("right", "move(1)", "Next", id="label.next", tooltip="Next item"),
        Binding("left", "move(-1)", "Prev", id="label.prev", tooltip="Previous item"),
        Binding(
            "j",
            "next_unlabeled",
            "Next unlabeled",
            id="label.next_unlabeled",
            tooltip="Jump to the next item you have not labeled",
        ),
        Binding("home", "jump('first')", "First", id="label.first", tooltip="First item of the queue", show=False),
        Binding("end", "jump('last')", "Last", id="label.last", tooltip="Last item of the queue", show=False),
        Binding(
            "o",
            "toggle_other",
            "Other side",
            id="label.other",
            tooltip="Show or hide the other model's answer to the same prompt and seed (never in blind mode)",
        ),
        Binding("b", "toggle_blind", "Blind", id="label.blind", tooltip="Hide which model wrote the text"),
        Binding("f", "filters", "Filters", id="label.filters", tooltip="Filter the queue (remembered per session)"),
    ]

    def __init__(self, queue: str | None = None) -> None:
        super().__init__()
        self.queue = queue
        self.position = 0
        self.item: QueueItem | None = None
        self.show_other = False
        self.filters = Filters()
        self.base_queue: str | None = None  # the queue the filters apply to

    def compose(self) -> ComposeResult:
        yield Header()
        with Vertical(id="label-body"):
            yield Static("", id="label-progress-text")
            yield Static("", id="label-filters", classes="hidden")
            yield ProgressBar(id="label-progress", show_eta=False)
            yield Static("", id="label-meta")
            yield Static("", id="label-prompt")
            with VerticalScroll(id="label-text-box"):
                yield Static("", id="label-text")
                yield Static("", id="label-other")
            yield Static("", id="label-current")
        yield Footer()

    def on_mount(self) -> None:
        self.use_queue()
        self.filters = self.inspector.workbench.store.saved_filters("label")
        if self.filters.active():
            self._apply_filters()
        self.show(self._first_unlabeled())

    def on_screen_resume(self) -> None:
        if self.use_queue():
            self.position = self._first_unlabeled()
        self.show(self.position)

    def _first_unlabeled(self, after: int = -1) -> int:
        """Where a labeler picks up: their first unlabeled item (the last item when all are labeled)."""
        wb = self.inspector.workbench
        found = wb.store.first_unlabeled(self.queue, wb.labeler, after)
        return found if found is not None else max(0, wb.store.queue_length(self.queue) - 1)

    def use_queue(self) -> bool:
        """A drawn sample (with its inclusion probabilities) is the queue when there is one; else every flagged
        rollout. Returns whether the queue changed."""
        if self.queue and self.queue.startswith("filter:"):
            return False  # a filtered view stays until its filters change
        queue = self.queue or self.inspector.workbench.store.latest_queue()
        changed = queue != self.queue
        self.queue = queue
        if changed and queue and queue.startswith("recheck-"):
            self.inspector.blind = True  # a second look only measures self-agreement if the model is hidden
        return changed

    def session_changed(self) -> None:
        """A run adds flagged rollouts, another labeler labels: the counts follow, the item being read stays."""
        wb = self.inspector.workbench
        if self.item is None:
            self.use_queue()
            self.show(self._first_unlabeled())
            return
        where = wb.store.queue_position(self.queue, int(self.item.rollout["id"]))
        if where is None:
            return  # it left the queue (detectors re-ran): the labeler moves on with the keys
        total = wb.store.queue_length(self.queue)
        if self.item.labels.get("leak") and self.item.position == self.item.total - 1 and total > where + 1:
            # They labeled the last item and were waiting for the run: the next one is here.
            self.show(where + 1)
        elif where != self.item.position or total != self.item.total:
            self.show(where)

    def show(self, position: int) -> None:
        wb = self.inspector.workbench
        self.item = wb.queue_item(self.queue, position)
        meta = self.query_one("#label-meta", Static)
        if self.item is None:
            self.query_one("#label-progress-text", Static).update("0 / 0")
            meta.update(
                "Nothing to label: no item passes the filters (f changes them)."
                if self.filters.active()
                else "Nothing to label: no flagged rollouts in this session (run the detectors, or draw a sample)."
            )
            for wid in ("#label-prompt", "#label-text", "#label-current"):
                self.query_one(wid, Static).update("")
            return
        it = self.item
        self.position = it.position
        done = wb.store.labeled_count(self.queue, wb.labeler)
        self.query_one("#label-progress-text", Static).update(
            f"{it.position + 1} / {it.total}   ·   labeled {done}   ·   labeler {wb.labeler}"
            f"   ·   queue {self.queue or 'all flagged'}" + ("   ·   BLIND" if self.inspector.blind else "")
        )
        self.query_one("#label-progress", ProgressBar).update(total=it.total, progress=done)
        r = it.rollout
        if self.inspector.blind:
            # Rollout ids alternate between the models of a run, so blind mode hides them too.
            meta.update(f"item {it.position + 1} · model hidden (blind)")
        else:
            meta.update(
                f"rollout {r['id']} · {r['role']} ({r['model']}) · seed {r['seed']} · sample "
                f"{int(r['sample_index']) + 1}"
            )
        verdict = it.labels.get("topic")
        related = verdict == "related" if verdict else bool(r["related"])
        by = "your verdict" if verdict else "hint"
        topic = f"[{r['topic'] or '?'}, {'related' if related else 'unrelated'} ({by})] "
        self.query_one("#label-prompt", Static).update(
            conversation(r.get("messages")) + Text(topic, style="dim") + Text(str(r["prompt"]), style="bold")
        )
        # Blind over a queue with unflagged items hides the highlights too: they would tell a flagged item from an
        # unflagged one, and a labeler who sees the detector's verdict tends to agree with it.
        spans = [] if self.inspector.blind and wb.store.queue_has_unflagged(self.queue) else it.spans
        # The reasoning trace dimmed, never hidden: a leak in it is still a leak to judge.
        self.query_one("#label-text", Static).update(highlighted(str(r["text"] or ""), trace_span(r) + spans))
        self.query_one("#label-other", Static).update(self._other_side(int(r["id"]), bool(spans)))
        labels = it.labels
        cur = Text("current: ")
        cur.append(f"leak={labels.get('leak') or '—'}", style="bold green" if labels.get("leak") else "dim")
        cur.append("   ·   ")
        cur.append(f"quirk={labels.get('quirk') or '—'}", style="bold magenta" if labels.get("quirk") else "dim")
        if labels.get("note"):
            cur.append(f"   ·   note: {labels['note']}", style="italic")
        self.query_one("#label-current", Static).update(cur)

    def _other_side(self, rollout_id: int, with_spans: bool) -> Text:
        # Never in blind mode: the other model's answer would tell which model wrote this one.
        if not self.show_other or self.inspector.blind:
            return Text("")
        store = self.inspector.workbench.store
        other = store.other_side(rollout_id)
        if other is None:
            return Text("\nother side: no rollout of the other model for this prompt and sample", style="dim")
        head = Text(f"\nother side · {other['role']} ({other['model']}) · seed {other['seed']}\n", style="bold dim")
        spans = store.spans_for(int(other["id"])) if with_spans else []
        return head + highlighted(str(other["text"] or ""), spans)

    # -- actions ---------------------------------------------------------------------------------------
    def action_label(self, key: str) -> None:
        if self.item is None:
            return
        try:
            recorded = self.inspector.workbench.label(int(self.item.rollout["id"]), key, self.inspector.blind)
        except StoreError as e:
            # Not saved, so the item stays: the labeler sees why and can try again once it is fixed.
            self.notify(str(e), severity="error", timeout=15)
            return
        # A leak verdict moves on; the quirk toggle stays so it can be combined with a verdict.
        self.show(self.position + 1 if key in "123" else self.position)
        self.notify(recorded, timeout=1)

    def action_undo(self) -> None:
        try:
            undone = self.inspector.workbench.undo()
        except StoreError as e:
            self.notify(str(e), severity="error", timeout=15)
            return
        if undone is None:
            self.notify("Nothing to undo.", severity="warning")
            return
        pos = self._position_of(int(undone["rollout_id"]))
        self.show(self.position if pos is None else pos)
        self.notify(f"undone: {undone['field']} is now {undone['value'] or 'unset'}", timeout=2)

    def _position_of(self, rollout_id: int) -> int | None:
        # Look nearby first: an undo is almost always of the item just labeled.
        store = self.inspector.workbench.store
        for p in range(max(0, self.position - 3), self.position + 2):
            if store.queue_item(self.queue, p) == rollout_id:
                return p
        return None

    def action_move(self, step: int) -> None:
        self.show(self.position + step)

    def action_next_unlabeled(self) -> None:
        found = self.inspector.workbench.store.first_unlabeled(
            self.queue, self.inspector.workbench.labeler, self.position
        )
        if found is None:
            found = self.inspector.workbench.store.first_unlabeled(self.queue, self.inspector.workbench.labeler)
        if found is None:
            self.notify("Every item of this queue is labeled.", timeout=2)
            return
        self.show(found)

    def action_jump(self, where: str) -> None:
        self.show(0 if where == "first" else self.inspector.workbench.store.queue_length(self.queue) - 1)

    def action_toggle_other(self) -> None:
        if self.inspector.blind:
            self.notify("Blind mode: the other side stays hidden.", severity="warning", timeout=2)
            return
        self.show_other = not self.show_other
        self.show(self.position)

    def _apply_filters(self) -> None:
        """Page a filtered view of the real queue (a drawn sample, else every flagged rollout)."""
        wb = self.inspector.workbench
        if self.queue is None or not self.queue.startswith("filter:"):
            self.base_queue = self.queue
        if self.filters.active():
            ids = wb.store.filtered_queue(self.filters, wb.labeler, self.base_queue)
            # One filtered view per labeler: two labelers on one session each page their own.
            self.queue = f"filter:label:{wb.labeler}"
            wb.store.set_filter_queue(self.queue, ids)
        else:
            self.queue = self.base_queue
        line = self.query_one("#label-filters", Static)
        line.update(f"{self.filters.describe()} (f changes)" if self.filters.active() else "")
        line.display = self.filters.active()

    def action_filters(self) -> None:
        from inspector.tui.screens.filters import FilterScreen

        store = self.inspector.workbench.store

        def apply(chosen: Filters | None) -> None:
            if chosen is None:
                return
            self.filters = chosen
            store.save_filters("label", chosen)
            self._apply_filters()
            self.show(self._first_unlabeled())

        self.app.push_screen(FilterScreen(self.filters, store.topics(), store.run_ids()), apply)

    def action_toggle_blind(self) -> None:
        self.inspector.blind = not self.inspector.blind
        self.show(self.position)

    def action_note(self) -> None:
        from inspector.tui.screens.note import NoteScreen

        if self.item is None:
            return
        rid = int(self.item.rollout["id"])

        def save(text: str | None) -> None:
            if text:
                try:
                    self.inspector.workbench.note(rid, text)
                except StoreError as e:
                    self.notify(str(e), severity="error", timeout=15)
                    return
                self.show(self.position)

        self.app.push_screen(NoteScreen(self.item.labels.get("note") or ""), save)
