"""From a parsed message tree to extraction records (the JSON contract of `cru extract`).

Pure: no I/O, no clock. Each message of the tree (the file's own first, then
attached and quoted ones, depth first) gets one ``ExtractedMessage`` carrying
the CRU fields, its own and its effective protective marking (the highest of
itself and of everything attached or quoted in it: markings flow upward).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from typing import Any

from parsers.cru import (
    CruFields,
    Marking,
    extract_cru_fields,
    highest,
    strip_boilerplate,
)
from parsers.model import ParsedMessage
from pipeline.classify import MAX_TEXT, Classification, ClassifySettings, classify_message, prime_topics

#: Reply/forward prefixes in many languages, plus the CRU's own "Update to -".
_PREFIX = re.compile(
    r"^\s*(?:(?:re|fw|fwd|aw|wg|sv|antw|tr|rif|vs|vl)\s*(?:\[\d+\])?\s*:|update\s+to\s*-|\[[^\]]{0,40}\])\s*",
    re.IGNORECASE,
)


def normalise_subject(subject: str) -> str:
    """Subject without reply/forward/update prefixes, lower-case, single-spaced."""
    s = subject or ""
    for _ in range(20):
        stripped = _PREFIX.sub("", s, count=1)
        if stripped == s:
            break
        s = stripped
    return " ".join(s.lower().split())


def derived_message_id(raw_sha256: str, path: str) -> str:
    """A stable id for a message that has no Message-ID (quoted messages, .txt files)."""
    return f"<cru-{raw_sha256[:16]}-{path}@derived.invalid>"


def is_derived_id(message_id: str | None) -> bool:
    return bool(message_id) and message_id.endswith("@derived.invalid>")


@dataclass
class ExtractedMessage:
    """One message of a tree with everything the store and the faces need."""

    node: ParsedMessage
    path: str
    parent_path: str | None
    message_id: str
    fields: CruFields
    own_marking: Marking
    marking: Marking
    body_indexed: str
    attachment_names: list[str]
    attachment_text: str
    classification: Classification = field(default_factory=lambda: Classification(None, (), ()))
    contract: dict[str, Any] = field(default_factory=dict)


def _attachment_names(node: ParsedMessage) -> list[str]:
    names = [a.filename for a in node.attachments]
    listed = node.headers.get("x-cru-listed-attachments")
    if listed:
        names.extend(n.strip() for n in listed.split(";") if n.strip())
    return names


def extract_tree(
    root: ParsedMessage, raw_sha256: str, classify: ClassifySettings | None = None
) -> list[ExtractedMessage]:
    """Extract (and, unless ``classify`` is None, classify) every message; parents before children."""
    items = extract_nodes(root, raw_sha256)
    if classify is not None:
        classify_items(items, classify)
    return finish(items)


def extract_nodes(root: ParsedMessage, raw_sha256: str) -> list[ExtractedMessage]:
    """Every message of a tree with its CRU fields and markings, not yet classified; parents first.

    Kept apart from classification so that a worker can classify many trees at once
    (``classify_items`` over a whole chunk batches the topic model).
    """
    out: list[ExtractedMessage] = []

    def visit(node: ParsedMessage, path: str, parent: ExtractedMessage | None) -> ExtractedMessage:
        names = _attachment_names(node)
        fields_ = extract_cru_fields(node.subject, node.body_text, names, node.headers)
        message_id = node.message_id or derived_message_id(raw_sha256, path)
        item = ExtractedMessage(
            node=node,
            path=path,
            parent_path=parent.path if parent else None,
            message_id=message_id,
            fields=fields_,
            own_marking=fields_.marking,
            marking=fields_.marking,
            body_indexed=strip_boilerplate(node.body_text),
            attachment_names=names,
            attachment_text="\n\n".join(
                f"{a.filename}\n{a.text}" for a in node.attachments if a.text and not a.is_message
            ),
        )
        out.append(item)
        children = []
        for index, child in enumerate(node.children):
            tag = "q" if child.relation == "quoted" else "a"
            children.append(visit(child, f"{path}.{tag}{index + 1}", item))
        item.marking = highest([item.own_marking, *(c.marking for c in children)])
        return item

    visit(root, "0", None)
    return out


def _classified(item: ExtractedMessage) -> bool:
    """Quoted/attached messages without a request or advice add nothing to classify (and are
    mostly copies of stored messages): skipping them keeps classification off the hot path."""
    s = item.fields.sections
    return bool(s.applicant_request or s.advice or item.node.relation == "root")


def classify_items(items: list[ExtractedMessage], settings: ClassifySettings) -> None:
    """Classify the items that need it (topics, suppliers, combined stance), in place.

    Call prime_chunk first over many trees' items to score their topics in one batch.
    """
    chosen = [item for item in items if _classified(item)]
    for item in chosen:
        args = _classify_inputs(item)
        fields_ = item.fields
        item.classification = classify_message(*args, settings, stance_source=fields_.stance_source)
        if item.classification.stance != fields_.stance:  # the stance classifier refined the rules' reading
            item.fields = replace(fields_, stance=item.classification.stance)


def prime_chunk(items: list[ExtractedMessage], settings: ClassifySettings) -> None:
    """Score the topic texts of many items (from many trees) in one batch before classify_items.

    The texts are the ones classify_message will score: it leaves mail with no log
    number and no request alone.
    """
    texts = []
    for item in items:
        if _classified(item):
            subject, request, _, body, _, is_cru = _classify_inputs(item)
            if is_cru or request:
                texts.append(request if request else f"{subject}\n{body[:MAX_TEXT]}")
    prime_topics(texts, settings)


def _classify_inputs(item: ExtractedMessage) -> tuple[str, str | None, str | None, str, str | None, bool]:
    f = item.fields
    return (item.node.subject, f.sections.applicant_request, f.sections.advice, item.node.body_text, f.stance,
            bool(f.log_numbers.about))


def finish(items: list[ExtractedMessage]) -> list[ExtractedMessage]:
    """Fill each item's `cru extract --json` contract (after classification, which it reports)."""
    by_path = {item.path: item for item in items}
    for item in items:
        parent = by_path.get(item.parent_path) if item.parent_path else None
        item.contract = contract(item, parent.message_id if parent else None)
    return items


def contract(item: ExtractedMessage, parent_id: str | None) -> dict[str, Any]:
    """The `cru extract --json` object for one message (keys are a stable contract)."""
    f = item.fields
    node = item.node
    return {
        "message_id": item.message_id,
        "subject": node.subject,
        "date": node.date.isoformat() if node.date else None,
        "kind": f.kind,
        "log_numbers": list(f.log_numbers.about),
        "referenced_log_numbers": list(f.log_numbers.referenced),
        "marking": item.marking.level,
        "caveats": list(item.marking.caveats),
        "exemptions": list(f.exemptions.advised),
        "redaction_markers": list(f.exemptions.redaction_markers),
        "stance": f.stance,
        "logged_with": f.sections.logged_with,
        "foi_refs": list(f.foi_refs),
        "applicant_request": f.sections.applicant_request,
        "advice": f.sections.advice,
        "topic": item.classification.topic,
        "suppliers": list(item.classification.suppliers),
        "parent": parent_id,
    }
