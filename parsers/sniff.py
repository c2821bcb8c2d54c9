"""Decide how a blob is framed from its first bytes, not from its name.

Real files lie about their type: RFC 822 text is saved as ``.msg``, Outlook
files have no extension, ``winmail.dat`` carries TNEF.
"""

from __future__ import annotations

OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
TNEF_MAGIC = b"\x78\x9f\x3e\x22"
#: A TNEF attMAPIObject attachment starts with a 16-byte interface id before the OLE storage.
IID_LENGTH = 16


def looks_like_headers(data: bytes) -> bool:
    """True when the bytes begin with something shaped like an RFC 5322 header field."""
    line = data[:2000].split(b"\n", 1)[0]
    name = line.split(b":", 1)[0]
    return b":" in line and 0 < len(name) < 80 and not line.startswith((b" ", b"\t")) and b" " not in name.strip()


def sniff_container(data: bytes, name: str = "") -> str:
    """Return "msg", "tnef", "txt" or "eml" for a single message's bytes."""
    if data.startswith(OLE_MAGIC):
        return "msg"
    if data.startswith(TNEF_MAGIC):
        return "tnef"
    if name.lower().endswith(".txt") and not looks_like_headers(data):
        return "txt"
    return "eml"


def embedded_ole(data: bytes) -> bytes | None:
    """The OLE message storage inside an attachment, if it holds one (plain or behind a MAPI IID)."""
    if data.startswith(OLE_MAGIC):
        return data
    if data[IID_LENGTH : IID_LENGTH + len(OLE_MAGIC)] == OLE_MAGIC:
        return data[IID_LENGTH:]
    return None
