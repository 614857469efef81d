"""Segment definitions (SPEC 4.1): `segments/<name>.yml` loaded into a `Segment`.

A `Segment` is self-describing: its references, the entity models it reads and its
version are derived from its content, so they can never disagree with it. The version
covers the canonical form (see `canonical.py`) plus the versions of the segments and
models it refers to, which the project loader passes in as `reference_versions` and
`model_versions` once those are known. `description` does not change the version.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, computed_field
from sqlglot import exp

from segment_pipeline.definitions.canonical import canonical_condition, to_json, version_of
from segment_pipeline.definitions.condition_loader import load_condition
from segment_pipeline.definitions.condition_parts import Predicate
from segment_pipeline.definitions.condition_values import ConditionContext
from segment_pipeline.definitions.conditions import (
    Attribute,
    CompanyAttribute,
    Condition,
    InSegment,
    iter_leaves,
)
from segment_pipeline.definitions.models import Model
from segment_pipeline.definitions.predicate_rules import PROPERTIES
from segment_pipeline.definitions.predicates import PredicateScope, event_scope, parse_predicate
from segment_pipeline.definitions.sources import ENTITY_KEYS, ColumnType, EntityType, Sources
from segment_pipeline.definitions.yaml_files import (
    NAME_PATTERN,
    join_path,
    kind_of,
    read_yaml,
    validation_errors,
)
from segment_pipeline.errors import DefinitionError, PredicateError

Mode = Literal["dynamic", "static"]
PositiveInt = Annotated[int, Field(strict=True, ge=1)]


class Persona(BaseModel):
    """One persona of a company segment: contacts matching `where`, ranked by list order."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str
    where: Predicate
    max_contacts: int | None = None


class Personas(BaseModel):
    """The `personas:` block. The list keeps the YAML key `list`; order is rank (1 first)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    max_contacts_per_company: int | None = None
    list: tuple[Persona, ...]


class Segment(BaseModel):
    """A validated segment definition, with its version."""

    model_config = ConfigDict(frozen=True, extra="forbid", protected_namespaces=())

    name: str
    entity: EntityType
    mode: Mode = "dynamic"
    description: str = ""
    where: Condition
    personas: Personas | None = None
    file: Path
    reference_versions: tuple[tuple[str, str], ...] = ()
    model_versions: tuple[tuple[str, str], ...] = ()

    @computed_field  # type: ignore[prop-decorator]
    @property
    def references(self) -> tuple[str, ...]:
        """Segments named by `in_segment`, direct only, in definition order."""
        names = [leaf.segment for _, leaf in iter_leaves(self.where) if isinstance(leaf, InSegment)]
        return tuple(dict.fromkeys(names))

    @computed_field  # type: ignore[prop-decorator]
    @property
    def models(self) -> tuple[str, ...]:
        """Entity models read through `<model>.<column>` in predicates, in definition order."""
        names: list[str] = []
        for predicate in self.entity_predicates():
            for column in predicate.expression.find_all(exp.Column):
                if column.table and column.table != PROPERTIES:
                    names.append(column.table)
        return tuple(dict.fromkeys(names))

    @computed_field  # type: ignore[prop-decorator]
    @property
    def version(self) -> str:
        """Short hash of `definition_json()`: changes exactly when the meaning does."""
        return version_of(self.definition_json())

    def definition_json(self) -> str:
        """The canonical form as JSON: what the version hashes, for `segment_definitions`."""
        personas = None
        if self.personas is not None:
            personas = {
                "max_contacts_per_company": self.personas.max_contacts_per_company,
                "list": [
                    {"name": p.name, "where": p.where.sql, "max_contacts": p.max_contacts}
                    for p in self.personas.list
                ],
            }
        return to_json(
            {
                "name": self.name,
                "entity": self.entity,
                "mode": self.mode,
                "where": canonical_condition(self.where),
                "personas": personas,
                "depends_on": {
                    "segments": dict(self.reference_versions),
                    "models": dict(self.model_versions),
                },
            }
        )

    def entity_predicates(self) -> list[Predicate]:
        """Every predicate over entity columns: attribute, company and persona leaves."""
        found = [
            leaf.predicate
            for _, leaf in iter_leaves(self.where)
            if isinstance(leaf, Attribute | CompanyAttribute)
        ]
        if self.personas is not None:
            found.extend(persona.where for persona in self.personas.list)
        return found


class _PersonaFile(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str = Field(pattern=NAME_PATTERN)
    where: str
    max_contacts: PositiveInt | None = None


class _PersonasFile(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    max_contacts_per_company: PositiveInt | None = None
    list: tuple[_PersonaFile, ...] = Field(min_length=1)


class _SegmentFile(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str | None = Field(default=None, pattern=NAME_PATTERN)
    entity: EntityType
    mode: Mode = "dynamic"
    description: str = ""
    where: object
    personas: object = None


def entity_scope(entity: EntityType, sources: Sources, models: dict[str, Model]) -> PredicateScope:
    """What an entity's predicates may name: its key, its attributes and its entity models."""
    columns: dict[str, ColumnType] = {ENTITY_KEYS[entity]: ColumnType.TEXT}
    columns.update(sources.attributes(entity))
    tables = {name: model.columns for name, model in models.items() if model.entity == entity}
    return PredicateScope(f"{entity} attributes", columns, tables)


@dataclass(frozen=True)
class SegmentFile:
    """What one segment file yielded: its name and entity even when it has mistakes, so
    that other definitions referring to it are not told it does not exist."""

    file: Path
    name: str
    entity: EntityType | None
    segment: Segment | None
    errors: list[DefinitionError]


def load_segment(file: Path, sources: Sources, models: dict[str, Model]) -> SegmentFile:
    """One segment file and every mistake in it (references are checked by the project)."""
    try:
        raw = read_yaml(file)
    except DefinitionError as error:
        return SegmentFile(file, file.stem, None, None, [error])
    if not isinstance(raw, dict):
        reason = f"a segment file must be a mapping with entity: and where:, got {kind_of(raw)}"
        return SegmentFile(file, file.stem, None, None, [DefinitionError(file, "", reason)])
    errors: list[DefinitionError] = []
    parsed: _SegmentFile | None = None
    try:
        parsed = _SegmentFile.model_validate(raw)
    except ValidationError as error:
        errors.extend(validation_errors(file, error, _SegmentFile))
    name = str(raw.get("name") or file.stem)
    if "name" not in raw and not re.fullmatch(NAME_PATTERN, file.stem):
        errors.append(
            DefinitionError(
                file, "name", f"the file name {file.stem!r} is not a segment name; set name:"
            )
        )
    if raw.get("entity") not in ENTITY_KEYS:
        return SegmentFile(file, name, None, None, errors)
    entity: EntityType = "company" if raw["entity"] == "company" else "contact"
    context = ConditionContext(
        file=file,
        entity=entity,
        attributes=entity_scope(entity, sources, models),
        company=(
            entity_scope("company", sources, models)
            if entity == "contact" and sources.contacts_have_company
            else None
        ),
        events=event_scope(),
    )
    where = load_condition(raw.get("where"), "where", context) if "where" in raw else None
    errors.extend(context.errors)
    personas = _load_personas(file, raw.get("personas"), entity, sources, models, errors)
    if errors or parsed is None or where is None:
        return SegmentFile(file, name, entity, None, errors)
    segment = Segment(
        name=name,
        entity=entity,
        mode=parsed.mode,
        description=parsed.description,
        where=where,
        personas=personas,
        file=file,
    )
    return SegmentFile(file, name, entity, segment, [])


def _load_personas(
    file: Path,
    raw: object,
    entity: EntityType,
    sources: Sources,
    models: dict[str, Model],
    errors: list[DefinitionError],
) -> Personas | None:
    if raw is None:
        return None
    if entity != "company":
        errors.append(
            DefinitionError(
                file,
                "personas",
                "personas are for company segments (they pick contacts of member companies); "
                "this segment's entity is contact",
            )
        )
        return None
    if not sources.contacts_have_company:
        errors.append(
            DefinitionError(
                file,
                "personas",
                "personas pick the contacts of member companies, and sources.yml does not "
                "declare company_id under contacts.columns: declare it (company_id: text)",
            )
        )
        return None
    try:
        parsed = _PersonasFile.model_validate(raw)
    except ValidationError as error:
        errors.extend(validation_errors(file, error, _PersonasFile, prefix="personas"))
        return None
    scope = entity_scope("contact", sources, models)
    personas: list[Persona] = []
    seen: set[str] = set()
    for index, item in enumerate(parsed.list):
        path = join_path(join_path("personas.list", index), "name")
        if item.name in seen:
            errors.append(DefinitionError(file, path, f"persona {item.name} is listed twice"))
        seen.add(item.name)
        where_path = join_path(join_path("personas.list", index), "where")
        try:
            predicate = parse_predicate(item.where, scope)
        except PredicateError as error:
            errors.append(DefinitionError(file, where_path, str(error)))
            continue
        personas.append(Persona(name=item.name, where=predicate, max_contacts=item.max_contacts))
    if len(personas) != len(parsed.list):
        return None
    return Personas(max_contacts_per_company=parsed.max_contacts_per_company, list=tuple(personas))
