"""Attachment text extraction: PDF, Word .docx, HTML (hostile too), text; broken files are kept with a note."""

from __future__ import annotations

import io

import docx
import pytest
from pypdf import PdfWriter

from parsers.attachments import extract_attachment_text
from parsers.dispatch import parse_mail
from parsers.htmltext import html_to_text
from tests.conftest import FIXTURE_MAILBOX

LIMIT = 10 * 1024 * 1024


def test_docx_paragraphs_and_tables() -> None:
    document = docx.Document()
    document.add_paragraph("CRU advice: maintain NCND under s31(3).")
    table = document.add_table(rows=1, cols=2)
    table.rows[0].cells[0].text = "Log"
    table.rows[0].cells[1].text = "995/24"
    buf = io.BytesIO()
    document.save(buf)
    text, note = extract_attachment_text("advice.docx", "application/octet-stream", buf.getvalue(), LIMIT)
    assert note is None
    assert "maintain NCND" in text and "Log | 995/24" in text


def test_pdf_from_the_fixture_mailbox_has_text() -> None:
    path = next(p for p in (FIXTURE_MAILBOX / "cur").iterdir() if b".pdf" in p.read_bytes())
    tree = parse_mail(path.read_bytes())
    pdf = next(a for a in tree.attachments if a.filename.endswith(".pdf"))
    assert pdf.text and "Palantir" in pdf.text


def test_blank_pdf_is_kept_with_a_note() -> None:
    writer = PdfWriter()
    writer.add_blank_page(width=200, height=200)
    buf = io.BytesIO()
    writer.write(buf)
    text, note = extract_attachment_text("blank.pdf", "application/pdf", buf.getvalue(), LIMIT)
    assert text is None and note == "kept, no text found"


@pytest.mark.parametrize(
    ("name", "ctype", "data"),
    [
        ("broken.pdf", "application/pdf", b"%PDF-1.4 this is not really a pdf"),
        ("broken.docx", "application/vnd.openxmlformats-officedocument.wordprocessingml.document", b"PK\x03\x04xx"),
    ],
)
def test_broken_documents_never_raise(name: str, ctype: str, data: bytes) -> None:
    text, note = extract_attachment_text(name, ctype, data, LIMIT)
    assert text is None and note.startswith("kept, text extraction failed")


def test_unknown_types_are_listed_not_read() -> None:
    text, note = extract_attachment_text("photo.png", "image/png", b"\x89PNG....", LIMIT)
    assert text is None and "no text extractor for image/png" in note


def test_oversize_attachment_is_kept_not_read() -> None:
    text, note = extract_attachment_text("big.txt", "text/plain", b"x" * 100, 10)
    assert text is None and "too large" in note


def test_hostile_html_is_reduced_to_visible_text() -> None:
    html = (
        "<html><head><style>p{color:red}</style><script>alert('x')</script></head><body>"
        "<p class=MsoNormal>Log Number:995/24</p><!-- hidden comment --><img src=http://evil/x.png onerror=alert(1)>"
        "<p>Applicants Request</p><iframe src=javascript:alert(1)></iframe><p>text</p></body></html>"
    )
    text = html_to_text(html)
    assert "alert" not in text and "color:red" not in text and "hidden comment" not in text
    assert text.splitlines()[0] == "Log Number:995/24"
    assert "Applicants Request" in text.splitlines()


def test_unclosed_and_deeply_nested_html_does_not_raise() -> None:
    text = html_to_text("<div>" * 5000 + "deep" + "<p>unclosed <b>bold")
    assert "deep" in text
