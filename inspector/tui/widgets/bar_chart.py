"""A horizontal bar chart of rates with interval whiskers, drawn with block characters."""

from __future__ import annotations

from rich.text import Text
from textual.widgets import Static


class BarChart(Static):
    """Rows of (label, rate, low, high), each rate a bar and its interval a bracketed range."""

    def plot(self, rows: list[tuple[str, float | None, float | None, float | None]], width: int = 40) -> None:
        out = Text()
        for label, rate, low, high in rows:
            out.append(f"{label:<28.28}", style="bold")
            if rate is None:
                out.append("   — not measured\n", style="dim")
                continue
            filled = round(rate * width)
            lo = round((low or rate) * width)
            hi = round((high or rate) * width)
            for i in range(width):
                if i < filled:
                    out.append("█", style="red" if "organism" in label else "blue")
                elif lo <= i <= hi:
                    out.append("─", style="yellow")
                else:
                    out.append("·", style="dim")
            ci = f" [{low:.1%}, {high:.1%}]" if low is not None and high is not None else ""
            out.append(f" {rate:6.1%}{ci}\n")
        self.update(out)
