"""The local session's settings: the memory limit shared with DuckDB reaches the JVM in a
form `-Xmx` takes (the JVM refuses DuckDB's `4GB` and would not start)."""

from __future__ import annotations

import pytest

from segment_pipeline.errors import ConfigError
from segment_pipeline.warehouse.spark_session import jvm_memory

pytestmark = pytest.mark.spark


@pytest.mark.parametrize(
    ("limit", "expected"),
    [
        ("4GB", "3814m"),  # 4 * 10**9 bytes
        ("4GiB", "4096m"),
        ("512MiB", "512m"),
        ("1.5 GB", "1430m"),
        ("2g", "2048m"),
        ("768m", "768m"),
    ],
)
def test_a_duckdb_or_jvm_size_becomes_whole_mebibytes(limit: str, expected: str) -> None:
    assert jvm_memory(limit) == expected


@pytest.mark.parametrize("limit", ["80%", "lots", "4 parsecs", ""])
def test_a_size_spark_cannot_use_is_a_one_line_error(limit: str) -> None:
    with pytest.raises(ConfigError, match=r"SEGMENT_PIPELINE_DUCKDB_MEMORY_LIMIT=.*e\.g\. 4GB"):
        jvm_memory(limit)
