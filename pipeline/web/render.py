"""Template helpers: labels, marking badges, dates and safe snippet highlighting.

Why a helper for highlights: snippets are mail text (hostile input) with highlight markers;
the text is escaped first and only the markers become <mark>, always balanced.
"""

from __future__ import annotations

import re
from typing import Any

from markupsafe import Markup, escape

from pipeline.queries import MARK_END, MARK_START

_MARKING_CLASSES = {"OFFICIAL": "official", "OFFICIAL-SENSITIVE": "official-sensitive", "SECRET": "secret",
                    "TOP SECRET": "top-secret"}
_STANCES = {"full_ncnd": "Full NCND", "partial_ncnd": "Partial NCND", "confirm_and_exempt": "Confirm and exempt",
            "disclose": "Disclose", "conditional": "Conditional"}
_KINDS = {"circulation": "Circulation", "update": "Update", "advice": "Advice",
          "internal_review": "Internal review advice", "force_response": "Force response"}
_FACETS = {"topic": "Topic", "stance": "Stance", "marking": "Marking", "force": "Logged with",
           "exemption": "Exemption", "year": "Year", "supplier": "Supplier"}
_MARKERS = re.compile(f"([{MARK_START}{MARK_END}])")


def highlight(text: str | None) -> Markup:
    """Escape snippet text and turn the query layer's markers into balanced <mark> elements."""
    out: list[str] = []
    open_ = False
    for part in _MARKERS.split(text or ""):
        if part == MARK_START:
            if not open_:
                out.append("<mark>")
                open_ = True
        elif part == MARK_END:
            if open_:
                out.append("</mark>")
                open_ = False
        else:
            out.append(str(escape(part)))
    if open_:
        out.append("</mark>")
    return Markup("".join(out))


def marking_class(level: str | None) -> str:
    """A fixed CSS class per tier (never derived from text)."""
    return "marking-" + _MARKING_CLASSES.get(level or "", "none")


def banner(level: str | None, caveats: list[str] | None) -> str:
    return " / ".join([level or "NO PROTECTIVE MARKING", *(caveats or [])])


def stance_label(value: str | None) -> str:
    return _STANCES.get(value or "", value or "")


def kind_label(value: str | None) -> str:
    return _KINDS.get(value or "", "Message")


def topic_label(value: str | None) -> str:
    return (value or "").replace("_", " ").capitalize()


def facet_label(name: str) -> str:
    return _FACETS.get(name, name)


def facet_value_label(name: str, value: str) -> str:
    if name == "stance":
        return stance_label(value)
    if name == "topic":
        return topic_label(value)
    return value


def day(value: str | None) -> str:
    return (value or "")[:10]


def when(value: str | None) -> str:
    return (value or "")[:16].replace("T", " ")


def size(value: int | None) -> str:
    if value is None:
        return ""
    n = float(value)
    for unit in ("bytes", "KB", "MB"):
        if n < 1024 or unit == "MB":
            return f"{int(n)} {unit}" if unit == "bytes" else f"{n:.1f} {unit}"
        n /= 1024
    return str(value)  # pragma: no cover


FILTERS: dict[str, Any] = {"highlight": highlight, "marking_class": marking_class, "stance": stance_label,
                           "kind": kind_label, "topic": topic_label, "day": day, "when": when, "size": size}
GLOBALS: dict[str, Any] = {"banner": banner, "facet_label": facet_label, "facet_value_label": facet_value_label}
