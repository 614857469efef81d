"""Definitions compiled to sqlglot expressions, rendered for whichever engine runs them.

Nothing here formats user values into SQL text: predicates arrive as checked syntax trees
and leave as trees, so the same definition runs on DuckDB or a distributed engine.
"""
