"""The base of the app's full screens: typed access to the InspectorApp that holds the Workbench."""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual.screen import Screen

if TYPE_CHECKING:
    from inspector.tui.app import InspectorApp


class InspectorScreen(Screen[None]):
    """Every full screen reaches the core through `self.inspector.workbench`."""

    @property
    def inspector(self) -> InspectorApp:
        return self.app  # type: ignore[return-value]

    def session_changed(self) -> None:
        """Another process (a run, another labeler) or a worker wrote to the session; by default nothing moves."""
