"""The Spark session the engine runs on: Spark Connect when `spark_remote` is set, else a
small local one, with the settings the pipeline's SQL relies on (UTC, dynamic partition
overwrite, microsecond timestamps)."""

from __future__ import annotations

import re

from pyspark.sql import SparkSession

from segment_pipeline.errors import ConfigError
from segment_pipeline.warehouse.engine import WarehouseSettings

#: Small local sessions: the machine is small, and the data of one run is too.
_LOCAL_CONFIG = {
    "spark.sql.session.timeZone": "UTC",
    "spark.sql.shuffle.partitions": "2",
    "spark.ui.enabled": "false",
    "spark.sql.sources.partitionOverwriteMode": "dynamic",
    "spark.sql.parquet.outputTimestampType": "TIMESTAMP_MICROS",
    "spark.sql.execution.arrow.pyspark.enabled": "true",
    "spark.sql.ansi.enabled": "false",
    # Spark 4 fails to plan a union over checkpointed relations whose filters it
    # remembers as constraints (`key not found` on a column); the pipeline needs none.
    "spark.sql.constraintPropagation.enabled": "false",
}


#: Bytes per unit of a memory size, DuckDB's units (`4GB`, `512MiB`) and the JVM's (`4g`).
_MEMORY_UNITS = {
    "": 1,
    "b": 1,
    "kb": 10**3,
    "mb": 10**6,
    "gb": 10**9,
    "tb": 10**12,
    "kib": 2**10,
    "mib": 2**20,
    "gib": 2**30,
    "tib": 2**40,
    "k": 2**10,
    "m": 2**20,
    "g": 2**30,
    "t": 2**40,
}


def jvm_memory(limit: str) -> str:
    """The memory limit as the JVM's `-Xmx` takes it, in whole MiB: the setting is shared
    with DuckDB, whose sizes (`4GB`) the JVM refuses, and `spark.driver.memory` becomes
    the driver's `-Xmx`."""
    match = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([a-zA-Z]*)\s*", limit)
    unit = match.group(2).lower() if match else None
    if match is None or unit not in _MEMORY_UNITS:
        raise ConfigError(
            f"SEGMENT_PIPELINE_DUCKDB_MEMORY_LIMIT={limit!r} is not a size Spark can use: "
            "give a number and a unit, e.g. 4GB or 512MiB"
        )
    return f"{max(1, int(float(match.group(1)) * _MEMORY_UNITS[unit]) // 2**20)}m"


def spark_session(settings: WarehouseSettings) -> SparkSession:
    """The session for these settings: Spark Connect when remote, else local (reused)."""
    builder = SparkSession.builder
    if settings.spark_remote:
        builder = builder.remote(settings.spark_remote)
    else:
        threads = settings.threads or 2
        builder = builder.master(f"local[{threads}]").config(
            "spark.sql.warehouse.dir", str(settings.path.resolve())
        )
        if settings.memory_limit:
            builder = builder.config("spark.driver.memory", jvm_memory(settings.memory_limit))
    for key, value in _LOCAL_CONFIG.items():
        builder = builder.config(key, value)
    return builder.appName("segment-pipeline").getOrCreate()
