"""The stance CRU advice (or a force's response) takes: NCND, partial NCND, confirm and exempt, disclose.

Why: the point of a CRU circulation is a consistent national answer. The
stance is what forces compare ("did everyone NCND?") and what changes between
an original circulation and a later update. It is read from wording, so the
rules prefer precision: None when the text gives no clear stance.

Order of the rules:

1. ``conditional`` - two or more clauses conditioned on the force ("if your
   force has ..." / "If your force has not ...", "where a force ...") that give
   different stances.
2. ``partial_ncnd`` - "partial NCND", or disclosing/confirming some information
   while neither confirming nor denying any further/other information.
3. ``full_ncnd`` - "NCND"/"neither confirm nor deny" (including "maintain
   NCND"), not negated ("no need to NCND").
4. ``confirm_and_exempt`` - confirm the information is held and exempt it
   (s21 with a public link, or another exemption), with no NCND.
5. ``disclose`` - disclose/provide/release the information with no exemption
   and no NCND.
"""

from __future__ import annotations

import re

__all__ = ["STANCES", "clauses", "extract_stance", "is_conditioned", "simple_stance"]

STANCES = ("full_ncnd", "partial_ncnd", "confirm_and_exempt", "disclose", "conditional")

_NCND = re.compile(
    r"\bNCND\b|\bneither\s+confirm(?:s|ing)?\s+nor\s+den(?:y|ies|ying)\b",
    re.IGNORECASE,
)
_NEGATED_BEFORE = re.compile(
    r"\b(?:no[ \t]+need[ \t]+to|not[ \t]+(?:to[ \t]+)?(?:apply|use|rely[ \t]+on)?|n't|never|cannot|should[ \t]+not)"
    r"[ \t]*(?:an?[ \t]+)?(?:full[ \t]+)?$",
    re.IGNORECASE,
)
_NEGATED_AFTER = re.compile(
    r"^[ \t]*(?:is|would[ \t]+be)[ \t]+(?:not|no[ \t]+longer)[ \t]+(?:appropriate|required|needed)", re.IGNORECASE
)
_PARTIAL = re.compile(r"\bpartial(?:ly)?\s+(?:an?\s+)?(?:NCND|neither)", re.IGNORECASE)
_SOME = re.compile(
    r"\b(?:disclos|provid|releas|confirm)\w*\s+(?:some|part|parts)\b"
    r"|\b(?:some|part)\s+of\s+the\s+information\s+(?:can|may|will|should)\s+be\s+(?:disclosed|provided|released)",
    re.IGNORECASE,
)
_FURTHER = re.compile(
    r"\b(?:any|the)\s+(?:further|other|remaining|additional)\s+information\b|\bthe\s+(?:rest|remainder)\b",
    re.IGNORECASE,
)
_CONFIRM_HELD = re.compile(
    r"\bconfirm(?:s|ed|ing)?\s+(?:that\s+)?(?:the\s+|this\s+)?information\s+(?:is|was)\s+held"
    r"|\bconfirm(?:s|ed|ing)?\s+(?:it\s+is\s+)?held\b"
    r"|\bcan\s+confirm\b",
    re.IGNORECASE,
)
_EXEMPT = re.compile(
    r"\bexempt(?:ion|ions|ed)?\b|\bs\.?[ \t]?(?:2[1-9]|3\d|4[0-4])\b|\bsection[ \t]+(?:2[1-9]|3\d|4[0-4])\b",
    re.IGNORECASE,
)
_DISCLOSE = re.compile(
    r"\bdisclose\s+(?:the|this|all|in\s+full)\b|\bprovide\s+(?:the|this|all)\s+information\b"
    r"|\brelease\s+(?:the|this|all)\s+information\b|\bfull\s+disclosure\b"
    r"|\b(?:can|should|may)\s+be\s+(?:disclosed|released|provided)\b"
    r"|\b(?:answered|provided|disclosed|released)\s+in\s+full\b",
    re.IGNORECASE,
)
_NOT_DISCLOSE = re.compile(r"\b(?:not|n't|never)\s+(?:be\s+)?$", re.IGNORECASE)

# Clauses conditioned on the force: "if your force has ...", "where a force has not ...".
_CONDITION = re.compile(
    r"\b(?:if|where|should|when)\s++(?:(?:your|the|a|any|their|individual)\s++)?forces?\b",
    re.IGNORECASE,
)
_BLOCK_SPLIT = re.compile(r"\n[ \t]*\n|\n[ \t]*(?:[-•*·]|\d{1,2}[.)])[ \t]+")
_SENTENCE_SPLIT = re.compile(r"(?<=[.;])[ \t]+(?=[A-Z])|\n")


def _ncnd_positive(text: str) -> bool:
    for m in _NCND.finditer(text):
        before = text[max(0, m.start() - 40) : m.start()]
        after = text[m.end() : m.end() + 40]
        if _NEGATED_BEFORE.search(before) or _NEGATED_AFTER.match(after):
            continue
        return True
    return False


def _disclose_positive(text: str) -> bool:
    for m in _DISCLOSE.finditer(text):
        before = text[max(0, m.start() - 20) : m.start()]
        if not _NOT_DISCLOSE.search(before):
            return True
    return False


def _simple_stance(text: str) -> str | None:
    ncnd = _ncnd_positive(text)
    if _PARTIAL.search(text):
        return "partial_ncnd"
    if ncnd and _SOME.search(text) and _FURTHER.search(text):
        return "partial_ncnd"
    if ncnd:
        return "full_ncnd"
    if _CONFIRM_HELD.search(text) and _EXEMPT.search(text):
        return "confirm_and_exempt"
    if _disclose_positive(text) and not _EXEMPT.search(text):
        return "disclose"
    return None


def _conditional(text: str) -> bool:
    """Two clauses conditioned on the force (bullets/paragraphs, else sentences) with different stances."""
    for splitter in (_BLOCK_SPLIT, _SENTENCE_SPLIT):
        stances: set[str] = set()
        for clause in splitter.split(text):
            if clause and _CONDITION.search(clause):
                stance = _simple_stance(clause)
                if stance is not None:
                    stances.add(stance)
                    if len(stances) >= 2:
                        return True
    return False


def clauses(text: str) -> list[str]:
    """The sentences of text (split at sentence ends, line breaks and bullets), stripped, non-empty.

    The unit the stance classifier reads (classifiers/stance.py), as the conditional rule does.
    """
    out = []
    for block in _BLOCK_SPLIT.split(text):
        out.extend(c.strip() for c in _SENTENCE_SPLIT.split(block) if c and c.strip())
    return out


def is_conditioned(clause: str) -> bool:
    """True when the clause is conditioned on the force ("if your force has ...", "where a force ...")."""
    return bool(_CONDITION.search(clause))


def simple_stance(clause: str) -> str | None:
    """The stance one clause states by the rules alone (no conditional reading), or None."""
    return _simple_stance(clause)


def extract_stance(text: str) -> str | None:
    """The stance advised or taken in ``text`` (one of STANCES), or None when unclear."""
    if _conditional(text):
        return "conditional"
    return _simple_stance(text)
