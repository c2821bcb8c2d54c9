"""Per-recipient views of a digest: caveated items only for allowlisted domains.

A recipient whose domain is on ``caveat_domains`` (or a subdomain of one)
gets the full digest; anyone else gets the same digest without the caveated
items and a line saying how many were withheld. The view's marking is
computed from the items it actually contains, so the withheld view of a week
whose only sensitive items were POLICE EYES ONLY is not marked POLICE EYES ONLY.
"""

from __future__ import annotations

from dataclasses import dataclass

from config.mail import DigestSettings, domain_allowed
from parsers.cru import marking_rank
from pipeline.digest.builder import AdviceItem, AwaitingItem, Digest, Item, LinkItem, NewCirculation

#: A digest always carries at least this marking: it is police business, even in a quiet week.
BASELINE_MARKING = "OFFICIAL"


@dataclass(frozen=True)
class DigestView:
    digest: Digest
    recipient: str
    full: bool  # True: the recipient may see caveated items
    circulations: tuple[NewCirculation, ...]
    advice: tuple[AdviceItem, ...]
    awaiting: tuple[AwaitingItem, ...]  # listed ones only
    older_awaiting: int  # awaiting advice beyond awaiting_max_age, counted not listed
    links: tuple[LinkItem, ...]
    withheld: int
    withheld_logs: int
    withheld_caveats: tuple[str, ...]
    caveat_domains: tuple[str, ...]
    marking: str
    caveats: tuple[str, ...]
    base_url: str

    @property
    def view_name(self) -> str:
        return "full" if self.full else "withheld"

    @property
    def marking_line(self) -> str:
        """``OFFICIAL-SENSITIVE / POLICE EYES ONLY``: the first and last line of every digest."""
        return " / ".join([self.marking, *self.caveats])

    @property
    def approaching(self) -> int:
        return sum(1 for a in self.awaiting if a.status == "approaching")

    @property
    def overdue(self) -> int:
        return sum(1 for a in self.awaiting if a.status == "overdue")

    def items(self) -> list[Item]:
        return [*self.circulations, *self.advice, *self.awaiting, *self.links]

    def log_url(self, log: str) -> str:
        return f"{self.base_url}/thread/{log}" if self.base_url else ""


def may_see_caveated(recipient: str, settings: DigestSettings) -> bool:
    return domain_allowed(recipient, settings.caveat_domains)


def view_for(digest: Digest, recipient: str, settings: DigestSettings) -> DigestView:
    """What ``recipient`` receives for this digest."""
    full = may_see_caveated(recipient, settings)

    def keep(items: tuple) -> tuple:
        return tuple(i for i in items if full or not i.restricted)

    listed = tuple(a for a in digest.awaiting if a.listed)
    older = [a for a in digest.awaiting if not a.listed and (full or not a.restricted)]
    shown = [*keep(digest.circulations), *keep(digest.advice), *keep(listed), *keep(digest.links), *older]
    hidden = [] if full else [i for i in [*digest.circulations, *digest.advice, *listed, *digest.links]
                              if i.restricted]
    top = max([BASELINE_MARKING, *(i.marking for i in shown if i.marking)], key=marking_rank)
    caveats = tuple(dict.fromkeys(c for i in shown for c in i.caveats))
    return DigestView(
        digest=digest, recipient=recipient, full=full, circulations=keep(digest.circulations),
        advice=keep(digest.advice), awaiting=keep(listed), older_awaiting=len(older), links=keep(digest.links),
        withheld=len(hidden), withheld_logs=len({i.log for i in hidden}),
        withheld_caveats=tuple(dict.fromkeys(c for i in hidden for c in i.caveats)),
        caveat_domains=settings.caveat_domains, marking=top, caveats=caveats, base_url=settings.base_url,
    )


def most_restricted_recipient(settings: DigestSettings) -> str | None:
    """The configured recipient who sees least: the first one outside caveat_domains, else the first one.

    Previews default to this view so that a screen or a pasted preview shows
    nothing that some recipient would not get.
    """
    for r in settings.recipients:
        if not may_see_caveated(r, settings):
            return r
    return settings.recipients[0] if settings.recipients else None
