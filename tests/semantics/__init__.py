"""Property-based and hand-made tests of the time semantics (SPEC 5) against a model."""
