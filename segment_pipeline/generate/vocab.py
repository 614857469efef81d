"""The words and weights the synthetic CRM and events are drawn from.

Kept apart from the generating code so that realism can be tuned in one place; every weight
tuple sums to one so it can be handed to `numpy.random.Generator.choice` as is.
"""

from __future__ import annotations

import json

INDUSTRIES = (
    "saas",
    "fintech",
    "retail",
    "healthcare",
    "manufacturing",
    "media",
    "education",
    "logistics",
)
INDUSTRY_WEIGHTS = (0.25, 0.12, 0.12, 0.10, 0.12, 0.09, 0.08, 0.12)
#: Industries whose companies take payments online (their tech stack lists stripe).
PAYING_INDUSTRIES = ("saas", "fintech", "retail", "media")
#: Tools of a company's tech stack chosen by its number: (tool, every n-th company).
TOOLS_BY_NUMBER = (("slack", 2), ("zendesk", 3), ("segment", 5))

COUNTRIES = ("US", "GB", "DE", "FR", "NL", "ES", "IN", "BR", "JP", "AU")
COUNTRY_WEIGHTS = (0.30, 0.15, 0.10, 0.08, 0.05, 0.05, 0.10, 0.07, 0.05, 0.05)
COUNTRY_TLDS = ("com", "co.uk", "de", "fr", "nl", "es", "in", "com.br", "co.jp", "com.au")
LEGAL_SUFFIXES = ("Inc", "Ltd", "GmbH", "SAS", "BV", "SL", "Pvt Ltd", "Ltda", "KK", "Pty Ltd")

NAME_HEADS = (
    "Alpine", "Apex", "Atlas", "Blue", "Bold", "Bright", "Cedar", "Clear", "Coastal", "Copper",
    "Delta", "Ember", "Falcon", "Golden", "Granite", "Green", "Harbor", "Iron", "Juniper",
    "Lunar", "Maple", "Meridian", "North", "Nova", "Oak", "Open", "Orbit", "Pioneer", "Prime",
    "Quantum", "Rapid", "Red", "Silver", "Solar", "Summit", "Swift", "Tidal", "True", "Urban",
    "Vivid",
)  # fmt: skip
NAME_TAILS = (
    "Academy", "Analytics", "Bank", "Capital", "Care", "Cloud", "Data", "Dynamics", "Foods",
    "Freight", "Goods", "Health", "Labs", "Learning", "Logistics", "Markets", "Media", "Motors",
    "Networks", "Partners", "Pay", "Pharma", "Retail", "Robotics", "Software", "Studio",
    "Supply", "Systems", "Textiles", "Works",
)  # fmt: skip

FIRST_NAMES = (
    "Aarav", "Ada", "Ahmed", "Aiko", "Alice", "Ana", "Ben", "Camille", "Carlos", "Chloe",
    "Daniel", "Emma", "Finn", "Gabriel", "Hannah", "Hiro", "Isabel", "Jack", "Julia", "Kenji",
    "Lars", "Laura", "Leon", "Lucas", "Maria", "Mateo", "Mia", "Noah", "Olivia", "Priya",
    "Rafael", "Ravi", "Sakura", "Sofia", "Sophie", "Thomas", "Valentina", "Wei", "Yuki", "Zoe",
)  # fmt: skip
LAST_NAMES = (
    "Becker", "Brown", "Costa", "Dubois", "Fernandez", "Garcia", "Gupta", "Jansen", "Johnson",
    "Kato", "Khan", "Kumar", "Lambert", "Lopez", "Martin", "Meyer", "Moreau", "Muller", "Nakamura",
    "Nguyen", "Oliveira", "Patel", "Perez", "Rossi", "Santos", "Schmidt", "Sharma", "Silva",
    "Smith", "Suzuki", "Tanaka", "Taylor", "Thomas", "Visser", "Wagner", "Walker", "Williams",
    "Wilson", "Wright", "Young",
)  # fmt: skip

SENIORITIES = ("ic", "manager", "director", "vp", "cxo")
#: How common each seniority is among contacts: many ICs, few executives.
SENIORITY_WEIGHT = {"ic": 5.0, "manager": 3.0, "director": 1.5, "vp": 1.0, "cxo": 0.5}

#: (title, seniority, department): titles always agree with their seniority and department.
TITLES = (
    ("Accountant", "ic", "finance"),
    ("Finance Manager", "manager", "finance"),
    ("Finance Director", "director", "finance"),
    ("VP Finance", "vp", "finance"),
    ("CFO", "cxo", "finance"),
    ("Content Marketer", "ic", "marketing"),
    ("Marketing Manager", "manager", "marketing"),
    ("Marketing Director", "director", "marketing"),
    ("VP Marketing", "vp", "marketing"),
    ("CMO", "cxo", "marketing"),
    ("Growth Analyst", "ic", "growth"),
    ("Growth Marketing Manager", "manager", "growth"),
    ("Head of Growth", "director", "growth"),
    ("VP Growth", "vp", "growth"),
    ("Software Engineer", "ic", "engineering"),
    ("Senior Software Engineer", "ic", "engineering"),
    ("Engineering Manager", "manager", "engineering"),
    ("Director of Engineering", "director", "engineering"),
    ("VP Engineering", "vp", "engineering"),
    ("CTO", "cxo", "engineering"),
    ("Product Designer", "ic", "product"),
    ("Product Manager", "manager", "product"),
    ("Director of Product", "director", "product"),
    ("VP Product", "vp", "product"),
    ("Account Executive", "ic", "sales"),
    ("Sales Development Representative", "ic", "sales"),
    ("Sales Manager", "manager", "sales"),
    ("Sales Director", "director", "sales"),
    ("VP Sales", "vp", "sales"),
    ("Chief Revenue Officer", "cxo", "sales"),
    ("Operations Analyst", "ic", "operations"),
    ("Operations Manager", "manager", "operations"),
    ("VP Operations", "vp", "operations"),
    ("COO", "cxo", "operations"),
    ("CEO", "cxo", "operations"),
    ("Data Analyst", "ic", "data"),
    ("Data Engineer", "ic", "data"),
    ("Analytics Manager", "manager", "data"),
    ("Head of Data", "director", "data"),
)

EVENT_NAMES = (
    "page_viewed",
    "email_opened",
    "feature_used",
    "pricing_viewed",
    "invite_sent",
    "signup",
    "trial_started",
    "demo_requested",
)
EVENT_WEIGHTS = (0.32, 0.22, 0.20, 0.08, 0.06, 0.05, 0.04, 0.03)

_PAGES = {
    "/": 0.20,
    "/pricing": 0.15,
    "/docs": 0.20,
    "/blog": 0.15,
    "/features": 0.10,
    "/customers": 0.05,
    "/integrations": 0.05,
    "/security": 0.04,
    "/changelog": 0.04,
    "/careers": 0.02,
}
_PLANS_VIEWED = {"free": 0.45, "pro": 0.40, "enterprise": 0.15}
_PLANS_TRIED = {"pro": 0.75, "enterprise": 0.25}
_FEATURES = ("dashboards", "segments", "exports", "api", "alerts", "sso", "journeys", "webhooks")
_DEMO_SOURCES = {
    "website": 0.35,
    "pricing_page": 0.25,
    "webinar": 0.15,
    "partner": 0.10,
    "email": 0.10,
    "event": 0.05,
}
_CAMPAIGNS = (
    "jan_newsletter",
    "product_update",
    "webinar_invite",
    "trial_nudge",
    "pricing_change",
    "case_study",
)


def _seat_weights(most: int) -> dict[int, float]:
    """Seat counts 1..most, geometrically rarer as they grow: most teams are small."""
    raw = {seats: 0.85**seats for seats in range(1, most + 1)}
    total = sum(raw.values())
    return {seats: weight / total for seats, weight in raw.items()}


def _properties(event_name: str) -> dict[str, float]:
    """Every properties object an event can carry, as compact JSON, with its probability."""

    def dump(value: dict[str, object]) -> str:
        return json.dumps(value, separators=(",", ":"))

    if event_name == "page_viewed":
        return {dump({"page": page}): w for page, w in _PAGES.items()}
    if event_name == "pricing_viewed":
        return {dump({"plan": plan}): w for plan, w in _PLANS_VIEWED.items()}
    if event_name == "trial_started":
        return {dump({"plan": plan}): w for plan, w in _PLANS_TRIED.items()}
    if event_name == "feature_used":
        return {
            dump({"feature": feature, "seats": seats}): w / len(_FEATURES)
            for feature in _FEATURES
            for seats, w in _seat_weights(50).items()
        }
    if event_name == "invite_sent":
        return {dump({"seats": seats}): w for seats, w in _seat_weights(20).items()}
    if event_name == "demo_requested":
        return {dump({"source": source}): w for source, w in _DEMO_SOURCES.items()}
    if event_name == "email_opened":
        return {dump({"campaign": c}): 1 / len(_CAMPAIGNS) for c in _CAMPAIGNS}
    return {"{}": 1.0}


def event_vocabulary() -> tuple[list[int], list[str], list[float]]:
    """Every (event name, properties) pair with its joint probability.

    Drawing one entry of this list per event picks the name and its properties in a single
    vectorised draw. Returns the entries' event name indices, properties and probabilities.
    """
    names: list[int] = []
    properties: list[str] = []
    weights: list[float] = []
    for index, (event_name, name_weight) in enumerate(zip(EVENT_NAMES, EVENT_WEIGHTS, strict=True)):
        for text, weight in _properties(event_name).items():
            names.append(index)
            properties.append(text)
            weights.append(name_weight * weight)
    return names, properties, weights
