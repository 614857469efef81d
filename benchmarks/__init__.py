"""The segment pipeline benchmark: `python -m benchmarks.run --scale small`."""
