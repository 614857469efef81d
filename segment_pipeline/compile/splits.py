"""Deterministic splits: an entity's bucket from a stable hash of its key and a salt.

The bucket is the number the first 8 hex digits of `md5(salt || ':' || key)` spell, modulo
100. Only functions every engine has are used (md5, substring, the position of a digit in
'0123456789abcdef'), and the digits are read one by one rather than with an engine's
base conversion, so DuckDB and Spark give every entity the same bucket on every day.
"""

from __future__ import annotations

from sqlglot import exp

from segment_pipeline.definitions.conditions import Split
from segment_pipeline.sql import lit

#: Hex digits of the md5 that make the bucket (16^8 fits a BIGINT).
DIGITS = 8
HEX = "0123456789abcdef"


def bucket(key: exp.Expr, salt: str) -> exp.Expr:
    """The entity's bucket, 0 to 99, for a salt."""
    digest = exp.MD5(this=exp.func("concat", lit(f"{salt}:"), key))
    terms: list[exp.Expr] = []
    for position in range(1, DIGITS + 1):
        digit = exp.Substring(this=digest.copy(), start=lit(position), length=lit(1))
        value = exp.StrPosition(this=lit(HEX), substr=digit) - lit(1)
        # A BIGINT weight: Spark multiplies INTs as INTs, and 15 * 16^7 overflows one.
        weight = exp.cast(lit(16 ** (DIGITS - position)), exp.DataType.Type.BIGINT)
        terms.append(exp.paren(value) * weight)
    total = terms[0]
    for term in terms[1:]:
        total = total + term
    return exp.Mod(this=exp.paren(total), expression=lit(100))


def in_split(split: Split, key: exp.Expr) -> exp.Expr:
    """Whether the entity with this key is in the split's first `percent` buckets."""
    return bucket(key, split.salt) < lit(split.percent)
