"""A brute-force model of SPEC 7 and 8 for personas, sharing no code with the pipeline.

The company segment's members and join times come from the SPEC 5 model (`model.py`).
Everything about contacts is evaluated here literally: a contact's *key* at an instant is
`(company, best-ranked persona)` while it exists, has a company, is not a former employee
and matches some persona; its stretch is found by evaluating the key at every instant a
contact version starts (nothing else changes it) and walking back from `as_of(D)`. The
picking is a plain greedy loop over the candidates in order, and removal reasons are the
first of SPEC 8's four that applies, decided from the model's own data.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from .model import History, Predicate, Segment, SnapshotModel


@dataclass(frozen=True)
class Persona:
    name: str
    where: Predicate
    max_contacts: int | None = None


@dataclass(frozen=True)
class Personas:
    personas: tuple[Persona, ...]
    max_contacts_per_company: int | None = None


@dataclass(frozen=True)
class Pick:
    """A picked contact at a company, as a snapshot row holds it."""

    contact: str
    company: str
    persona: str
    rank: int
    joined_at: datetime


@dataclass(frozen=True)
class Removal:
    """A picked contact of the earlier snapshot that today's does not have there."""

    contact: str
    company: str
    reason: str
    #: company_removed: the company's own removal reason; left_company: how it left
    #: (deleted, no_company, moved:<company>, former); better_contact: the contacts ordered
    #: before it that are picked today at that company.
    why: object


Key = tuple[str, int]


class PersonaModel:
    """Picked contacts of one company segment for one snapshot date."""

    def __init__(
        self, history: History, segment: Segment, personas: Personas, snapshot: date
    ) -> None:
        self.segment = segment
        self.personas = personas
        self.model = SnapshotModel(history, (segment,), snapshot)
        self.as_of = self.model.as_of
        self.companies = {
            key: joined for name, _, key, joined in self.model.members() if name == segment.name
        }

    def contacts(self) -> list[str]:
        return sorted(self.model.versions["contact"])

    def key(self, contact: str, t: datetime) -> Key | None:
        """(company, rank) of the contact at t, None when not eligible or no persona holds."""
        attributes = self.model.attributes_at("contact", contact, t)
        if attributes is None or attributes.get("company_id") is None:
            return None
        if attributes.get("is_former_employee") is True:
            return None
        for rank, persona in enumerate(self.personas.personas, start=1):
            if persona.where.evaluate(attributes) is True:
                return str(attributes["company_id"]), rank
        return None

    def first_seen(self, contact: str) -> datetime:
        """The updated_at of the contact's earliest visible record."""
        return min(version.updated_at for _, version in self.model.versions["contact"][contact])

    def stretch_start(self, contact: str) -> datetime:
        """Start of the contact's unbroken stretch with its key at as_of."""
        now = self.key(contact, self.as_of)
        assert now is not None
        starts = sorted(
            {version.updated_at for _, version in self.model.versions["contact"][contact]}
        )
        start = starts[-1]
        for instant in reversed(starts):
            if self.key(contact, instant) != now:
                break
            start = instant
        return start

    def candidates(self, company: str) -> list[tuple[int, datetime, str]]:
        """(rank, first seen, contact) of the contacts keyed at the company, in pick order."""
        found = []
        for contact in self.contacts():
            key = self.key(contact, self.as_of)
            if key is not None and key[0] == company:
                found.append((key[1], self.first_seen(contact), contact))
        return sorted(found)

    def picks(self) -> dict[tuple[str, str], Pick]:
        """Picked contacts by (contact, company)."""
        picked: dict[tuple[str, str], Pick] = {}
        limit = self.personas.max_contacts_per_company
        for company, company_joined in self.companies.items():
            per_persona: dict[int, int] = {}
            taken = 0
            for rank, _, contact in self.candidates(company):
                persona = self.personas.personas[rank - 1]
                per_persona[rank] = per_persona.get(rank, 0) + 1
                if persona.max_contacts is not None and per_persona[rank] > persona.max_contacts:
                    continue  # its persona is full: no falling back to a lower one
                taken += 1
                if limit is not None and taken > limit:
                    continue
                joined = max(company_joined, self.stretch_start(contact))
                picked[(contact, company)] = Pick(contact, company, persona.name, rank, joined)
        return picked


def company_removal_reason(today: PersonaModel, company: str, version_changed: bool) -> str:
    """SPEC 8 for a company that left: deleted, definition_changed, no_longer_matches."""
    if today.model.attributes_at("company", company, today.as_of) is None:
        return "deleted"
    return "definition_changed" if version_changed else "no_longer_matches"


def removals(
    today: PersonaModel, earlier: dict[tuple[str, str], Pick], version_changed: bool
) -> dict[tuple[str, str], Removal]:
    """Why each picked contact of the earlier snapshot is not picked there today."""
    picks = today.picks()
    found: dict[tuple[str, str], Removal] = {}
    for contact, company in sorted(set(earlier) - set(picks)):
        attributes = today.model.attributes_at("contact", contact, today.as_of)
        if company not in today.companies:
            why: object = company_removal_reason(today, company, version_changed)
            reason = "company_removed"
        elif attributes is None:
            reason, why = "left_company", "deleted"
        elif attributes.get("company_id") is None:
            reason, why = "left_company", "no_company"
        elif attributes["company_id"] != company:
            reason, why = "left_company", f"moved:{attributes['company_id']}"
        elif attributes.get("is_former_employee") is True:
            reason, why = "left_company", "former"
        elif today.key(contact, today.as_of) is None:
            reason, why = "persona_mismatch", earlier[(contact, company)].persona
        else:
            reason = "better_contact"
            own = next(c for c in today.candidates(company) if c[2] == contact)
            why = frozenset(
                other
                for rank, seen, other in today.candidates(company)
                if (rank, seen, other) < own and (other, company) in picks
            )
        found[(contact, company)] = Removal(contact, company, reason, why)
    return found
