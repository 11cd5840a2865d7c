"""Colours for table cells and console lines, taken from the current Textual theme.

DataTable cells and RichLog lines are Rich renderables, which need concrete colours rather than
CSS variables; :meth:`Palette.from_app` reads them from the theme so every theme works (widgets
rebuild their rows when the theme changes).
"""

from __future__ import annotations

from dataclasses import dataclass

from textual.app import App


def _hex(value: str | None, default: str) -> str:
    # Theme variables may carry an alpha channel (#RRGGBBAA); Rich wants #RRGGBB.
    if value and value.startswith("#") and len(value) >= 7:
        return value[:7]
    return default


@dataclass(frozen=True, slots=True)
class Palette:
    """Concrete colours for the current theme."""

    success: str = "#4EBF71"
    warning: str = "#FEA62B"
    error: str = "#B93C5B"
    primary: str = "#0178D4"
    accent: str = "#FEA62B"
    muted: str = "#808080"

    @classmethod
    def from_app(cls, app: App[object]) -> Palette:
        v = app.get_css_variables()
        d = _DEFAULT
        return cls(
            success=_hex(v.get("success"), d.success),
            warning=_hex(v.get("warning"), d.warning),
            error=_hex(v.get("error"), d.error),
            primary=_hex(v.get("primary-lighten-1") or v.get("primary"), d.primary),
            accent=_hex(v.get("accent"), d.accent),
            muted=_hex(v.get("foreground-darken-3") or v.get("foreground-muted"), d.muted),
        )

    def status(self, status: int | None) -> str:
        if not status:
            return self.muted
        return {
            1: self.primary,
            2: self.success,
            3: self.primary,
            4: self.warning,
            5: f"bold {self.error}",
        }.get(status // 100, "")

    def kind(self, badge: str) -> str:
        return {
            "sync": self.warning,
            "async": self.success,
            "ws": self.accent,
            "static": self.muted,
            "by mw": self.primary,
        }.get(badge, self.muted)


#: textual-dark's colours: the fallback for any variable a theme does not define.
_DEFAULT = Palette()
