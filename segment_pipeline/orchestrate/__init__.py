"""The Dagster layer: assets, checks, resources, schedules and sensors over the core."""
