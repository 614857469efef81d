"""Deterministic synthetic landing data (`segment-pipeline generate`).

`generate_landing(out, GenerateParams(...))` writes companies, contacts and events files in
the landing layout of SPEC 3, with the mess real landing zones have: change records, late rows,
timestamps with offsets, re-sent events and a small share of malformed rows of every kind.
"""

from segment_pipeline.generate.landing import generate_landing
from segment_pipeline.generate.params import GenerateParams, GenerateSummary

__all__ = ["GenerateParams", "GenerateSummary", "generate_landing"]
