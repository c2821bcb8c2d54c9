"""A digest view as text: subject line, plain text and HTML, from Jinja2 templates.

Templates live in ``templates/`` (package data). HTML is autoescaped (the
store holds text from outside mail; nothing from it may become markup) and
written for Outlook: tables, inline CSS, no scripts, no remote images. The
first and last line of both parts is the view's marking.
"""

from __future__ import annotations

import textwrap
from datetime import date
from functools import lru_cache
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, StrictUndefined

from pipeline.digest.builder import Item
from pipeline.digest.views import DigestView

TEMPLATES = Path(__file__).with_name("templates")


def _day(value: date | None) -> str:
    return f"{value:%a} {value.day} {value:%b %Y}" if value else "-"


def _wrap(text: str, width: int = 76, indent: int = 14) -> str:
    """Wrap for plain-text mail: continuation lines indented under the first."""
    lines = textwrap.wrap(" ".join(text.split()), width=width - indent) or [""]
    return ("\n" + " " * indent).join(lines)


def _item_marking(item: Item) -> str:
    return " / ".join([item.marking or "unmarked", *item.caveats])


@lru_cache(maxsize=1)
def environment() -> Environment:
    env = Environment(
        loader=FileSystemLoader(str(TEMPLATES)),
        autoescape=lambda name: bool(name) and not name.endswith(".txt.j2"),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters.update(day=_day, wrap=_wrap, item_marking=_item_marking)
    return env


def subject(view: DigestView) -> str:
    """Marking first, as good practice puts it: ``OFFICIAL-SENSITIVE / POLICE EYES ONLY - CRU weekly digest ...``."""
    d = view.digest
    return (f"{view.marking_line} - CRU weekly digest {d.week.key} "
            f"({d.start.day} {d.start:%b} to {d.end.day} {d.end:%b %Y})")


def render_text(view: DigestView) -> str:
    return environment().get_template("digest.txt.j2").render(v=view, d=view.digest)


def render_html(view: DigestView) -> str:
    return environment().get_template("digest.html.j2").render(v=view, d=view.digest, title=subject(view))
