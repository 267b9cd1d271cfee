"""How the templates write numbers: Jinja filters for scores, percentages, intervals and quotes."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

# Formatting: the template's filters ----------------------------------------------------------------------------


def f4(value: float) -> str:
    return f"{value:.4f}"


def pct(value: float) -> str:
    return f"{100 * value:.1f}%"


def thousands(value: int) -> str:
    return f"{value:,}"


def fmt(value: Any, spec: str) -> str:
    """Python's format mini-language for the template: `{{ x | fmt("+.2f") }}`."""
    return format(value, spec)


def ci(value: float, interval: Sequence[float]) -> str:
    """A score with its 95% interval: `0.9280 [0.9160, 0.9385]`."""
    low, high = interval
    return f"{f4(value)} [{f4(low)}, {f4(high)}]"


def pm(mean: float, sd: float | None) -> str:
    """A mean over seeds with its standard deviation, or the mean alone when there is one seed."""
    return f4(mean) if sd is None else f"{f4(mean)} ± {f4(sd)}"


def cell(value: Any) -> str:
    """A value made safe for a Markdown table cell."""
    return str(value).replace("|", "\\|")


def quote(text: str, limit: int = 110) -> str:
    """A text on one line between quotation marks, cut at `limit` characters, safe for a table cell."""
    text = " ".join(text.split())
    return cell(f"“{text[:limit]}{'…' if len(text) > limit else ''}”")


FILTERS: dict[str, Callable[..., str]] = {
    "f4": f4,
    "pct": pct,
    "thousands": thousands,
    "fmt": fmt,
    "ci": ci,
    "pm": pm,
    "cell": cell,
    "quote": quote,
}
