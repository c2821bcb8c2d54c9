"""Bytes of unknown encoding to text, the way mail clients guess.

Attachments, .msg properties and TNEF bodies often carry no usable charset: try
UTF-8, then Windows-1252 (what Outlook writes), then Latin-1, which never fails.
"""

from __future__ import annotations


def decode_bytes(value: bytes | str | None) -> str:
    """Text from bytes (or a str passed through); never raises."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    for encoding in ("utf-8", "cp1252"):
        try:
            return value.decode(encoding)
        except UnicodeDecodeError:
            continue
    return value.decode("latin-1")
