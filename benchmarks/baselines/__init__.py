"""Baselines the benchmark compares the pipeline with, on the same warehouse and day."""
