"""The named relations of one evaluation run: what the compiler's queries read and the
evaluator materialises.

The compiler returns `Relation`s (a name and the SELECT that fills it); a query may read
relations named here that an earlier step of the same run materialised. `prefix` names
another set of the run's relations (e.g. the same data for a few entities).
"""

from __future__ import annotations

from typing import NamedTuple

from sqlglot import exp


class Relation(NamedTuple):
    """A run relation: its name and the query that computes it."""

    name: str
    query: exp.Query


def versions_table(entity: str, prefix: str = "") -> str:
    """The run's relation of visible versions of an entity."""
    return f"{prefix}visible_{entity}_versions"


def current_versions_table(entity: str) -> str:
    """The run's relation of each entity's latest visible version."""
    return f"current_{entity}_versions"


def timeline_table(segment: str, prefix: str = "") -> str:
    """The run's relation holding a segment's timeline, for segments that reference it."""
    return f"{prefix}timeline__{segment}"


def changed_table(segment: str, prefix: str = "") -> str:
    """The run's relation of the entities whose membership may change from `since` on."""
    return f"{prefix}changed__{segment}"


def members_table(segment: str, prefix: str = "") -> str:
    """The run's relation of a segment's members at `as_of` and their join times."""
    return f"{prefix}members__{segment}"


def moved_table(segment: str, prefix: str = "") -> str:
    """The run's relation of the entities whose membership changes from `since` on."""
    return f"{prefix}moved__{segment}"


def hits_table(prefix: str = "") -> str:
    """The run's relation of visible events flagged by `event_hits`."""
    return f"{prefix}event_hits"


def late_table(segment: str) -> str:
    """The run's relation of a segment's entities that start from the first change."""
    return f"late__{segment}"


def reached_table(segment: str) -> str:
    """The run's relation of a segment's entities late rows reach (before those its
    dependents' late entities read are added: `late_table`)."""
    return f"late_reached__{segment}"


def carried_table(segment: str) -> str:
    """The run's relation of timeline rows for the unchanged members of an incremental
    segment: what segments referencing it read beside its timeline."""
    return f"carried__{segment}"


def candidates_table(segment: str) -> str:
    """The run's relation of the entities with a change point, before pruning those that
    can be members on neither day (`changed_table` then keeps the rest)."""
    return f"candidates__{segment}"


def state_members_table(segment: str) -> str:
    """The run's relation of an incremental segment's members before the members the
    state cannot date are dated (`members_table` then holds them all)."""
    return f"state_members__{segment}"


def repicked_table(segment: str) -> str:
    """The run's relation of the member companies of a segment with personas whose
    contacts are picked anew (`entity_id`, `joined_at`): all of them, or on a day that
    starts from the previous day's picks, those whose picks may differ."""
    return f"repicked__{segment}"


def persona_candidates_table() -> str:
    """The run's relation of every persona segment's candidate contacts (one pass)."""
    return "persona_candidates"


def picks_table(segment: str) -> str:
    """The run's relation of a segment's picked contacts at `as_of`."""
    return f"picks__{segment}"
