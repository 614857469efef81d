"""SQL models (SPEC 4.4): `models/**/<name>.sql`, one SELECT each, dependencies from the SQL.

Like SQLMesh's loader: glob, parse with sqlglot, infer dependencies by walking the scopes
and dropping CTE names. A header `-- entity: company, key: company_id` makes the model's
columns usable in that entity's predicates as `<model>.<column>`. Output columns come from
the outer SELECT, with `*` expanded through CTEs and upstream models.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from pathlib import Path
from typing import cast

import sqlglot
from pydantic import BaseModel, ConfigDict
from sqlglot import exp
from sqlglot.errors import OptimizeError, ParseError, SqlglotError
from sqlglot.optimizer.normalize_identifiers import normalize_identifiers
from sqlglot.optimizer.qualify import qualify
from sqlglot.optimizer.scope import traverse_scope

from segment_pipeline.definitions.graph import DAG
from segment_pipeline.definitions.sources import (
    ENTITY_KEYS,
    EVENT_FIELDS,
    EVENT_PROPERTIES,
    EntityType,
    Sources,
)
from segment_pipeline.definitions.yaml_files import NAME_PATTERN
from segment_pipeline.errors import DefinitionError, format_cycle

MODEL_DIALECT = "duckdb"

#: Tables a model reads besides other models; a model may not take one of these names.
SOURCE_TABLES = ("companies", "contacts", "events")
RESERVED_NAMES = (*SOURCE_TABLES, "properties")
#: The column of a model's warehouse table that holds the partition; no model may output it.
PARTITION_COLUMN = "snapshot_date"

_HEADER = re.compile(r"^--\s*entity\s*:\s*(?P<entity>\w+)\s*(?:,\s*key\s*:\s*(?P<key>\w+)\s*)?$")
_EVENT_COLUMNS = {
    **{name: kind.value for name, kind in EVENT_FIELDS.items()},
    EVENT_PROPERTIES: "json",
}


class Model(BaseModel):
    """One SQL model: its query, what it depends on and, for entity models, its key.

    `version` hashes the normalised query (comments, layout and identifier case dropped),
    the header and the versions of upstream models: a segment using `<model>.<column>`, and
    every model reading it, changes version when the model's meaning changes.
    """

    model_config = ConfigDict(frozen=True, extra="forbid", arbitrary_types_allowed=True)

    name: str
    file: Path
    sql: exp.Select
    entity: EntityType | None = None
    key: str | None = None
    columns: tuple[str, ...]
    depends_on: tuple[str, ...]
    source_tables: tuple[str, ...]
    version: str


@dataclass(frozen=True)
class TableRead:
    """A table a query reads (CTE names excluded), by bare lower-case name, and where."""

    name: str
    line: int


@dataclass(frozen=True)
class _Draft:
    name: str
    file: Path
    sql: exp.Select
    entity: EntityType | None
    key: str | None
    reads: tuple[TableRead, ...]

    @property
    def tables(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(read.name for read in self.reads))

    def line_of(self, table: str) -> str:
        """`line N` of the first read of `table`."""
        return next(f"line {read.line}" for read in self.reads if read.name == table)


def load_models(
    project_dir: Path, sources: Sources
) -> tuple[dict[str, Model], list[DefinitionError]]:
    """Every model under `<project>/models`, in dependency order, and every mistake found."""
    errors: list[DefinitionError] = []
    drafts: dict[str, _Draft] = {}
    for file in sorted((project_dir / "models").glob("**/*.sql")):
        draft = _read_model(file, errors)
        if draft is None:
            continue
        if draft.name in drafts:
            errors.append(
                DefinitionError(
                    file, "", f"model name {draft.name} is also used by {drafts[draft.name].file}"
                )
            )
            continue
        drafts[draft.name] = draft
    graph: DAG[str] = DAG()
    for draft in drafts.values():
        unknown = [t for t in draft.tables if t not in drafts and t not in SOURCE_TABLES]
        for table in unknown:
            errors.append(
                DefinitionError(
                    draft.file,
                    draft.line_of(table),
                    f"reads unknown table {table!r}; a model reads "
                    f"{', '.join(SOURCE_TABLES)} or another model",
                )
            )
        graph.add(draft.name, [t for t in draft.tables if t in drafts])
    cycles = graph.cycles()
    for cycle in cycles:
        first = drafts[cycle[0]]
        errors.append(
            DefinitionError(
                first.file,
                first.line_of(cycle[1]),
                f"models depend on each other: {format_cycle(cycle)}",
            )
        )
    if cycles:
        return {}, errors
    models: dict[str, Model] = {}
    schema = source_schema(sources)
    for name in graph.sorted():
        model = _finish(drafts[name], models, schema, errors)
        if model is not None:
            models[name] = model
            schema[name] = {column: "unknown" for column in model.columns}
    return models, errors


def source_schema(sources: Sources) -> dict[str, dict[str, str]]:
    """Columns of the source tables as a model sees them, for expanding `*`."""
    schema: dict[str, dict[str, str]] = {"events": dict(_EVENT_COLUMNS)}
    tables: tuple[tuple[EntityType, str], ...] = (("company", "companies"), ("contact", "contacts"))
    for entity, table in tables:
        columns = {ENTITY_KEYS[entity]: "text", "updated_at": "timestamp"}
        columns.update({name: kind.sql_type for name, kind in sources.attributes(entity).items()})
        schema[table] = columns
    return schema


def _read_model(file: Path, errors: list[DefinitionError]) -> _Draft | None:
    name = file.stem
    if not re.fullmatch(NAME_PATTERN, name) or name in RESERVED_NAMES:
        errors.append(
            DefinitionError(
                file,
                "",
                f"model name {name!r} must be a lower-case name ([a-z][a-z0-9_]*) "
                f"other than {', '.join(RESERVED_NAMES)}",
            )
        )
        return None
    text = file.read_text(encoding="utf-8")
    try:
        header = _header(text)
    except ValueError as error:
        errors.append(DefinitionError(file, "line 1", str(error)))
        return None
    try:
        statements = [tree for tree in sqlglot.parse(text, read=MODEL_DIALECT) if tree]
    except (ParseError, SqlglotError) as error:
        errors.append(DefinitionError(file, _line_of(error), f"cannot parse SQL: {_first(error)}"))
        return None
    wrong = [tree for tree in statements if not isinstance(tree, exp.Select)] + statements[1:]
    if not statements or wrong:
        where = _first_line(wrong[0]) if wrong else ""
        errors.append(
            DefinitionError(file, where, "must hold exactly one SELECT (put a UNION in a CTE)")
        )
        return None
    tree = normalize_identifiers(statements[0], dialect=MODEL_DIALECT)
    assert isinstance(tree, exp.Select)
    entity, key = header
    return _Draft(name, file, tree, entity, key, _reads(tree))


def _header(text: str) -> tuple[EntityType | None, str | None]:
    """`-- entity: company, key: company_id` among the leading comment lines."""
    for line in text.splitlines():
        line = line.strip()
        if not line:
            continue
        if not line.startswith("--"):
            break
        if "entity" not in line.lower():
            continue
        match = _HEADER.match(line)
        if match is None or match["entity"] not in ENTITY_KEYS:
            raise ValueError(
                f"header {line!r} must read -- entity: company, key: company_id "
                "(entity company or contact)"
            )
        entity: EntityType = "company" if match["entity"] == "company" else "contact"
        return entity, match["key"] or ENTITY_KEYS[entity]
    return None, None


def table_reads(tree: exp.Query) -> list[exp.Table]:
    """The table nodes a query reads, CTE references dropped (SQLMesh's `find_tables`).

    A schema or catalog qualifier (`main.companies`) does not change what a name means:
    the project has one namespace, so `main.companies` is `companies`.
    """
    return [
        source
        for scope in traverse_scope(tree)
        for source in scope.sources.values()
        if isinstance(source, exp.Table) and source.name
    ]


def _reads(tree: exp.Select) -> tuple[TableRead, ...]:
    return tuple(
        TableRead(table.name, table.this.meta.get("line", 1)) for table in table_reads(tree)
    )


def _first_line(tree: exp.Expr) -> str:
    """`line N` where a statement starts, as far as its parsed nodes tell."""
    lines = [node.meta["line"] for node in tree.walk() if "line" in node.meta]
    return f"line {min(lines)}" if lines else ""


def _finish(
    draft: _Draft,
    done: dict[str, Model],
    schema: dict[str, dict[str, str]],
    errors: list[DefinitionError],
) -> Model | None:
    try:
        qualified = qualify(
            draft.sql.copy(),
            # sqlglot annotates the schema dict[str, object] (invariant); it only reads it.
            schema=cast("dict[str, object]", schema),
            dialect=MODEL_DIALECT,
            validate_qualify_columns=False,
        )
    except (OptimizeError, SqlglotError) as error:
        errors.append(DefinitionError(draft.file, "", f"cannot resolve its columns: {error}"))
        return None
    columns = tuple(qualified.named_selects)
    if PARTITION_COLUMN in columns:
        errors.append(
            DefinitionError(
                draft.file,
                "",
                f"column {PARTITION_COLUMN} is reserved for the partition of the model's "
                "table; rename it",
            )
        )
        return None
    if draft.key is not None and draft.key not in columns:
        errors.append(
            DefinitionError(
                draft.file,
                "line 1",
                f"key {draft.key} is not one of the model's columns: {', '.join(columns)}",
            )
        )
        return None
    depends_on = tuple(table for table in draft.tables if table in done)
    normalised = draft.sql.sql(dialect=MODEL_DIALECT, comments=False)
    digest = hashlib.sha256(f"{normalised}\nentity={draft.entity}, key={draft.key}".encode())
    for upstream in depends_on:
        digest.update(f"\n{upstream}={done[upstream].version}".encode())
    return Model(
        name=draft.name,
        file=draft.file,
        sql=draft.sql,
        entity=draft.entity,
        key=draft.key,
        columns=columns,
        depends_on=depends_on,
        source_tables=tuple(table for table in draft.tables if table in SOURCE_TABLES),
        version=digest.hexdigest()[:12],
    )


def _line_of(error: SqlglotError) -> str:
    details = getattr(error, "errors", None) or [{}]
    line = details[0].get("line")
    return f"line {line}" if line else ""


def _first(error: SqlglotError) -> str:
    details = getattr(error, "errors", None) or []
    if details and details[0].get("description"):
        return str(details[0]["description"])
    return str(error).splitlines()[0]
