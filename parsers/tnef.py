"""TNEF (winmail.dat) streams, read with tnefparse in a sandboxed child process.

A TNEF stream carries an Outlook message's body and attachments through
non-Outlook mail systems. tnefparse trusts the counts a stream declares: a
53-byte fuzz case (apache-poi ``oom.tnef``) makes it allocate until the
machine's memory is gone. TNEF is rare in CRU mail, so rather than re-implement
the format we run tnefparse in a child process with a memory cap and a time
limit; a stream that exceeds either is a parse error (quarantined), never a
dead worker. Embedded message objects inside TNEF are OLE storages behind a
16-byte interface id; the dispatcher hands those to the .msg parser.
"""

from __future__ import annotations

import base64
import json
import logging
import resource
import subprocess
import sys

from parsers.errors import ParseError
from parsers.htmltext import html_to_text
from parsers.model import Attachment, ParsedMessage
from parsers.textcodec import decode_bytes

#: Address-space cap and wall-clock limit for one TNEF parse.
MEMORY_LIMIT_BYTES = 512 * 1024 * 1024
TIME_LIMIT_SECONDS = 60


def _parse_in_this_process(data: bytes) -> dict:
    """Run tnefparse and return plain data (the child's half)."""
    import tnefparse

    logging.getLogger("tnefparse").setLevel(logging.CRITICAL)
    tnef = tnefparse.TNEF(data)
    attachments = []
    for index, att in enumerate(tnef.attachments):
        try:
            name = att.long_filename() or att.name
        except Exception:
            name = getattr(att, "name", None)
        name = decode_bytes(name).replace("\x00", "").strip() if name else ""
        attachments.append(
            {"name": name or f"attachment-{index + 1}", "data": base64.b64encode(bytes(att.data or b"")).decode()}
        )
    return {
        "body": decode_bytes(getattr(tnef, "body", None)),
        "html": decode_bytes(getattr(tnef, "htmlbody", None)),
        "attachments": attachments,
    }


def _limit_child() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (MEMORY_LIMIT_BYTES, MEMORY_LIMIT_BYTES))


def parse_tnef(data: bytes) -> ParsedMessage:
    """Parse a TNEF stream into a message whose attachments are the stream's files."""
    try:
        proc = subprocess.run(
            [sys.executable, "-m", "parsers.tnef"],
            input=data,
            capture_output=True,
            timeout=TIME_LIMIT_SECONDS,
            preexec_fn=_limit_child,
            check=False,
        )
    except subprocess.TimeoutExpired:
        raise ParseError(f"TNEF stream took longer than {TIME_LIMIT_SECONDS}s to parse") from None
    if proc.returncode != 0:
        stderr = proc.stderr.decode("utf-8", "replace")
        if "MemoryError" in stderr or "lost sys.stderr" in stderr:
            limit = MEMORY_LIMIT_BYTES >> 20
            raise ParseError(f"TNEF stream exceeded the {limit} MiB parse memory limit (corrupt counts)")
        last = (stderr.strip().splitlines() or ["no output"])[-1]
        raise ParseError(f"tnefparse could not read the TNEF stream: {last[:300]}")
    result = json.loads(proc.stdout)
    html = result["html"] or None
    body = result["body"]
    if not body.strip() and html:
        body = html_to_text(html)
    message = ParsedMessage(body_text=body, body_html=html, container="tnef")
    for att in result["attachments"]:
        message.attachments.append(
            Attachment(
                filename=att["name"], content_type="application/octet-stream", data=base64.b64decode(att["data"])
            )
        )
    return message


if __name__ == "__main__":  # the child: TNEF bytes on stdin, JSON on stdout
    sys.stdout.write(json.dumps(_parse_in_this_process(sys.stdin.buffer.read())))
