"""Dagster entry point (`dagster dev` loads this through workspace.yaml)."""

from segment_pipeline.orchestrate.definitions import build_definitions
from segment_pipeline.settings import Settings

defs = build_definitions(Settings())
