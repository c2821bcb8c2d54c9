"""Searchable text from the common attachment types.

pypdf reads PDF, python-docx reads Word .docx, BeautifulSoup reads HTML; plain
text is decoded. Every other type is kept (its bytes are stored by the caller)
and listed with a note saying why there is no text. A broken attachment never
fails its message: the failure becomes the note.
"""

from __future__ import annotations

import io
import logging

from parsers.htmltext import html_to_text
from parsers.textcodec import decode_bytes

logging.getLogger("pypdf").setLevel(logging.ERROR)

_TEXT_EXT = (".txt", ".csv", ".log", ".md", ".ics", ".vcf", ".json", ".xml")
_HTML_EXT = (".htm", ".html")


def _pdf_text(data: bytes) -> str:
    from pypdf import PdfReader  # imported lazily: most messages carry no PDF

    reader = PdfReader(io.BytesIO(data))
    return "\n".join((page.extract_text() or "") for page in reader.pages)


def _docx_text(data: bytes) -> str:
    import docx  # python-docx, imported lazily

    document = docx.Document(io.BytesIO(data))
    parts = [p.text for p in document.paragraphs]
    for table in document.tables:
        for row in table.rows:
            parts.append(" | ".join(cell.text for cell in row.cells))
    return "\n".join(parts)


def attachment_kind(filename: str, content_type: str) -> str | None:
    """Which extractor handles this attachment, or None for keep-and-list."""
    name = filename.lower()
    ctype = content_type.lower()
    if ctype == "application/pdf" or name.endswith(".pdf"):
        return "pdf"
    if name.endswith(".docx") or "wordprocessingml.document" in ctype:
        return "docx"
    if ctype == "text/html" or name.endswith(_HTML_EXT):
        return "html"
    if ctype.startswith("text/") or name.endswith(_TEXT_EXT):
        return "text"
    return None


def extract_attachment_text(
    filename: str, content_type: str, data: bytes, max_bytes: int
) -> tuple[str | None, str | None]:
    """Return (text, note). Text is None when the type has no extractor or extraction failed."""
    kind = attachment_kind(filename, content_type)
    if kind is None:
        return None, f"kept, no text extractor for {content_type or 'unknown type'}"
    if len(data) > max_bytes:
        return None, f"kept, too large for text extraction ({len(data)} bytes > {max_bytes})"
    try:
        if kind == "pdf":
            text = _pdf_text(data)
        elif kind == "docx":
            text = _docx_text(data)
        elif kind == "html":
            text = html_to_text(decode_bytes(data))
        else:
            text = decode_bytes(data)
    except Exception as exc:  # pypdf and python-docx raise many library-specific types on bad files
        return None, f"kept, text extraction failed: {type(exc).__name__}: {exc}"[:500]
    text = text.replace("\x00", "")
    return (text if text.strip() else None), (None if text.strip() else "kept, no text found")
