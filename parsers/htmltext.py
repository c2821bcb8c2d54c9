"""HTML to readable text for indexing and extraction.

BeautifulSoup (already required by extract-msg) does the parsing; we only add
line breaks at block elements so that Outlook's ``<p class=MsoNormal>`` layout
keeps the line structure the extractors rely on ("Log Number:995/24" on its own
line). Scripts, styles and comments are dropped, never executed or indexed.
"""

from __future__ import annotations

import re
import warnings

from bs4 import BeautifulSoup, Comment, MarkupResemblesLocatorWarning

_BLOCK = {"p", "div", "br", "tr", "li", "h1", "h2", "h3", "h4", "h5", "h6", "table", "blockquote", "hr"}
_BLANKS = re.compile(r"\n[ \t\xa0]*\n(?:[ \t\xa0]*\n)+")


def html_to_text(html: str) -> str:
    """Return the visible text of an HTML document, one block per line."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", MarkupResemblesLocatorWarning)
        soup = BeautifulSoup(html, "html.parser")
    for tag in soup(["script", "style", "head", "title", "meta", "xml"]):
        tag.decompose()
    for comment in soup.find_all(string=lambda s: isinstance(s, Comment)):
        comment.extract()
    for tag in soup.find_all(_BLOCK):
        tag.insert_before("\n")
        tag.insert_after("\n")
    text = soup.get_text()
    text = text.replace("\xa0", " ").replace("\r\n", "\n")
    lines = [line.rstrip() for line in text.split("\n")]
    return _BLANKS.sub("\n\n", "\n".join(lines)).strip()
