"""FOI Act exemptions advised in CRU mail, kept apart from redaction markers.

Why: the exemptions the CRU advises (s21, s24(2), s31(3) ...) are what forces
search for and compare. But the same notation also appears where the CRU's own
copy was redacted before publication: a name, unit or email address replaced
by ``S38(1)(b)`` or ``S30(c) & S38(1)(b)``. Counting those as advice would put
s38 and s30 on almost every message, so they are reported separately.

Normal form: lower-case ``s`` + section + subsections, no spaces: ``s31(3)``,
``s35(1)(a)``. Sibling subsections expand ("S35(1)(a)&(b)" -> s35(1)(a),
s35(1)(b)). Only Part II exemptions (ss.21-44, incl. 22A) and the refusals
s12 (cost) and s14 (vexatious) count; s1 (duties), s10 (time), s16, s17
(refusal notice) and EIR regulation numbers are not exemptions.

Redaction heuristic: a *marker group* is a capital ``S`` directly followed by
digits (``S38(1)(b)``), optionally joined to more such tokens or subsection
groups by ``&``/``,``/``and``, with no "section"/"s." wording. It is a
redaction when it stands where text was removed: alone on a line (ignoring
bold/bracket decoration), as a whole field value ("Case worker: S38(1)(b)"),
wrapped in bold/brackets, between dash separators (subject parts,
"(CRU 1750/22 – S38(1)(b) refers)"), just before an "@domain", or after a
greeting ("Dear S38(1)(b)"). Anything else, including "exempt under
S31(3)", is read as advice.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

__all__ = ["Exemptions", "extract_exemptions", "is_redaction_marker"]


@dataclass(frozen=True)
class Exemptions:
    """Exemptions advised in prose, and redaction markers standing in for removed text."""

    advised: tuple[str, ...] = ()
    redaction_markers: tuple[str, ...] = ()


_PAREN = r"[ \t]?\([ \t]?[0-9A-Za-z]{1,5}[ \t]?\)"
_TOKEN = rf"S\d{{1,3}}[A-Z]?(?:{_PAREN}){{0,6}}"
_GROUP = re.compile(
    rf"(?<![A-Za-z0-9.]){_TOKEN}(?:[ \t]*(?:&|,|\band\b)[ \t]*(?:{_TOKEN}|(?:{_PAREN}){{1,6}})){{0,10}}(?![A-Za-z0-9])"
)
_TOKEN_RE = re.compile(
    rf"S(\d{{1,3}}[A-Z]?)((?:{_PAREN}){{0,6}})((?:[ \t]*(?:&|,|\band\b)[ \t]*(?:{_PAREN}){{1,6}}){{0,10}})"
)
_PAREN_RE = re.compile(r"\([ \t]?([0-9A-Za-z]{1,5})[ \t]?\)")

_DECOR_ONLY = re.compile(r"[ \t*_\[\]()•·\-–—>]*")
_FIELD_LEFT = re.compile(r"[ \t*_>]*[A-Za-z][A-Za-z '’/]{0,40}:[ \t*_\[]*")
# Field labels whose value is advice, not a redacted name ("Exemptions: S31(3)").
_ADVICE_LABEL = re.compile(r"exempt|section|applied|advice|stance|ncnd|foi|refusal|reason", re.IGNORECASE)
_GREETING_LEFT = re.compile(r"(?:^|\s)(?:Dear|Hi|Hello|Thanks|Morning|Afternoon)[ \t]+[*_]*$", re.IGNORECASE)
_DASH_LEFT = re.compile(r"(?:^|[ \t])[\-–—][ \t]*[*_]*$")
_DASH_RIGHT = re.compile(r"[*_]*[ \t]*(?:[\-–—]|refers?\b|$|[)\]])", re.IGNORECASE)
_AT_RIGHT = re.compile(r"[*_]*[ \t]*\[?@")
_CUE_WINDOW = 60
_ADVICE_CUE_LEFT = re.compile(
    r"\b(?:exempt\w*|under|via|apply|applies|applied|applying|engag\w*|rel(?:y|ied|ies|iance)|cit\w*|"
    r"ncnd|deny|sections?|exemptions?|and|or|&|,)\W*$",
    re.IGNORECASE,
)
_WRAP_LEFT = re.compile(r"(?:\*\*|__|\[)[ \t]*$")
_WRAP_RIGHT = re.compile(r"[ \t]*(?:\*\*|__|\])")

# Prose mentions: "Section 31", "sections 40(2)", "s.31(3)", "S. 31", "s21", "sec 24".
_CUE = re.compile(
    r"(?<![\w'’])(?:sections?[ \t]*|sects?\.[ \t]*|secs?\.?[ \t]+|secs?\.|ss?\.[ \t]?|ss?(?=\d))"
    r"(?P<num>\d{1,3}[A-Z]?)(?![\d/%]|\.\d)",
    re.IGNORECASE,
)
_CHAIN_PAREN = re.compile(r"[ \t]{0,2}\([ \t]?([0-9]{1,3}|[A-Za-z]{1,4})[ \t]?\)")
_CHAIN_CONN = re.compile(r"[ \t]*(?:&|\band\b|\bor\b|,|/)[ \t]*(?=\([ \t]?[0-9A-Za-z]{1,4}[ \t]?\))", re.IGNORECASE)
_NUM_CONT = re.compile(r"[ \t]*(?:,|&|\band\b|\bor\b)[ \t]*(\d{1,3}[A-Z]?)\b(?![/%]|\.\d)", re.IGNORECASE)
_OTHER_ACT = re.compile(r"[ \t]++of[ \t]++the[ \t]++(?P<act>(?:[A-Za-z()]{1,30}[ \t]++){0,6}?)Act\b", re.IGNORECASE)

_ROMAN = frozenset({"i", "ii", "iii", "iv", "v", "vi", "vii", "viii", "ix", "x"})
_MAX_GROUPS = 12
_MAX_CONT = 20


def _valid_section(num: str) -> bool:
    if num.upper() == "22A":
        return True
    if not num.isdigit():
        return False
    n = int(num)
    return n in (12, 14) or 21 <= n <= 44


def _level(token: str, prev: tuple[int, str] | None) -> int:
    if token.isdigit():
        return 1
    low = token.lower()
    if prev is not None and low in _ROMAN:
        plevel, ptok = prev
        if plevel == 3:
            return 3
        if plevel == 2 and not (
            (low == "i" and ptok == "h") or (low == "v" and ptok == "u") or (low == "x" and ptok == "w")
        ):
            return 3
    return 2


def _expand(section: str, groups: list[str]) -> list[str]:
    """s + section + each path through the subsection groups (siblings give separate paths)."""
    base = "s" + section.upper()
    if not groups:
        return [base]
    out: list[str] = []
    path: list[tuple[int, str]] = []
    last_level = 0
    for token in groups:
        low = token.lower()
        level = _level(low, path[-1] if path else None)
        if path and level <= last_level:
            out.append(base + "".join(f"({t})" for _, t in path))
            path = [p for p in path if p[0] < level]
        path.append((level, low))
        last_level = level
    out.append(base + "".join(f"({t})" for _, t in path))
    return out


def _marker_values(group: str) -> list[str]:
    out: list[str] = []
    for m in _TOKEN_RE.finditer(group):
        groups = _PAREN_RE.findall(m.group(2)) + _PAREN_RE.findall(m.group(3))
        if _valid_section(m.group(1)):
            out.extend(_expand(m.group(1), groups))
    return out


# Context examined either side of a marker group; a longer run to the line edge is not decoration.
_CONTEXT = 120


def _is_redaction(text: str, start: int, end: int) -> bool:
    lo = max(0, start - _CONTEXT)
    nl = text.rfind("\n", lo, start)
    left_at_line_start = nl >= 0 or lo == 0
    left = text[nl + 1 if nl >= 0 else lo : start]
    hi = min(len(text), end + _CONTEXT)
    nl = text.find("\n", end, hi)
    right_at_line_end = nl >= 0 or hi == len(text)
    right = text[end : nl if nl >= 0 else hi]
    if right_at_line_end and _DECOR_ONLY.fullmatch(right):
        if left_at_line_start and _DECOR_ONLY.fullmatch(left):
            return True
        if left_at_line_start and _FIELD_LEFT.fullmatch(left) and not _ADVICE_LABEL.search(left):
            return True
    if _AT_RIGHT.match(right):
        return True
    if _WRAP_LEFT.search(left) and _WRAP_RIGHT.match(right):
        return True
    if _DASH_LEFT.search(left) and _DASH_RIGHT.match(right):
        return True
    if _GREETING_LEFT.search(left):
        return True
    # A bare capital-S group in running text with no advice wording before it ("the
    # link S30(c) & S38(1)(b)") stands where text was removed: the CRU writes advice as
    # "s31(3)" or "Section 31(3)", or after a cue such as "exempt under S31(3)".
    return not _ADVICE_CUE_LEFT.search(left[-_CUE_WINDOW:])


def _redaction_spans(text: str) -> list[tuple[int, int, str]]:
    return [(m.start(), m.end(), m.group(0)) for m in _GROUP.finditer(text) if _is_redaction(text, m.start(), m.end())]


def is_redaction_marker(value: str) -> bool:
    """True when a whole (field) value is a redaction marker such as ``S38(1)(b)`` or ``[REDACTED]``."""
    value = value.strip().strip("*_[]").strip()
    if not value:
        return False
    if value.upper() in ("REDACTED", "REDACTION", "WITHHELD"):
        return True
    return len(value) <= 200 and _GROUP.fullmatch(value) is not None


def _chain(text: str, pos: int) -> tuple[list[str], int]:
    groups: list[str] = []
    while len(groups) < _MAX_GROUPS:
        m = _CHAIN_PAREN.match(text, pos)
        if m is not None:
            groups.append(m.group(1))
            pos = m.end()
            continue
        if groups:
            c = _CHAIN_CONN.match(text, pos)
            if c is not None:
                pos = c.end()
                continue
        break
    return groups, pos


def _other_act(text: str, pos: int) -> bool:
    m = _OTHER_ACT.match(text, pos)
    if m is None:
        return False
    act = m.group("act").strip().lower()
    return (bool(act) and "freedom of information" not in act) or "scotland" in act


def extract_exemptions(text: str) -> Exemptions:
    """FOI Act exemptions advised in ``text`` and redaction markers found in it (normalised, in order)."""
    spans = _redaction_spans(text)
    markers: list[str] = []
    for _, _, group in spans:
        markers.extend(_marker_values(group))

    advised: list[str] = []
    span_iter = iter(spans)
    current = next(span_iter, None)
    pos = 0
    while True:
        m = _CUE.search(text, pos)
        if m is None:
            break
        while current is not None and current[1] <= m.start():
            current = next(span_iter, None)
        if current is not None and current[0] <= m.start() < current[1]:
            pos = current[1]
            continue
        mentions: list[tuple[str, list[str]]] = []
        groups, pos = _chain(text, m.end())
        mentions.append((m.group("num"), groups))
        for _ in range(_MAX_CONT):
            c = _NUM_CONT.match(text, pos)
            if c is None:
                break
            groups, pos = _chain(text, c.end())
            mentions.append((c.group(1), groups))
        if _other_act(text, pos):
            continue
        for num, groups in mentions:
            if _valid_section(num):
                advised.extend(_expand(num, groups))
    return Exemptions(advised=tuple(dict.fromkeys(advised)), redaction_markers=tuple(dict.fromkeys(markers)))
