"""When a landing line is malformed, and the sentence that says why: one rule for every reader.

Each engine reads landing files its own way (DuckDB with its readers, Spark's driver with
pyarrow and the standard library); both must quarantine the same lines with the same
reasons, so the wording and the decisions live here, once.
"""

from __future__ import annotations

#: What a line that parses as JSON but is not an object is, by DuckDB's `json_type` name;
#: any other type name is a number.
JSON_KINDS: dict[str, str] = {
    "ARRAY": "a JSON array",
    "VARCHAR": "a JSON string",
    "BOOLEAN": "a JSON boolean",
    "NULL": "JSON null",
}
JSON_NUMBER = "a JSON number"

NOT_JSON = "the line is not valid JSON"


def not_an_object(kind: str) -> str:
    """The reason of a JSON line holding `kind` (a phrase of `JSON_KINDS`) instead of an
    object."""
    return f"the line is {kind}, expected an object"


def wrong_field_count(header_fields: int) -> str:
    """The reason of a CSV record whose number of fields is not the header's."""
    return f"the row does not have the header's number of fields ({header_fields})"
