"""Segment pipeline: daily segment snapshots with exact join times, orchestrated by Dagster."""
