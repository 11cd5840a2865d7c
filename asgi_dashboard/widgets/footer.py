"""A Footer that rebuilds itself only when the keys it shows change.

Textual's ``Footer`` recomposes (unmounts and mounts a widget per key) on every
``bindings_updated`` signal, which fires on each focus change: switching tabs under load cost
~20-40 ms of mounting and styling identical keys before the frame could be drawn (bench figure 3,
key press -> frame).
"""

from __future__ import annotations

from typing import Any

from textual.events import Resize
from textual.screen import Screen
from textual.widgets import Footer

#: Below this width the command-palette key (docked right, so it overprints the last keys when
#: they do not fit) is left out; ctrl+p still works and ``?`` lists it.
NARROW_WIDTH = 100


class StableFooter(Footer):
    """Same look and keys as ``Footer``; skips recomposing when nothing visible changed, and
    keeps to one clean row on narrow terminals."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._shown: tuple[tuple[str, str, str, bool, str], ...] | None = None

    def bindings_changed(self, screen: Screen[Any]) -> None:
        # Exactly what compose() renders: the shown bindings, their labels, enabled state and
        # tooltips (plus the command palette key, which is always there).
        shown = tuple(
            (binding.key, binding.action, binding.description, enabled, tooltip)
            for (_, binding, enabled, tooltip) in screen.active_bindings.values()
            if binding.show
        )
        if shown == self._shown and self._bindings_ready:
            return
        self._shown = shown
        super().bindings_changed(screen)

    def on_resize(self, event: Resize) -> None:
        # A reactive compares before recomposing, so an unchanged value costs nothing.
        self.show_command_palette = event.size.width >= NARROW_WIDTH
