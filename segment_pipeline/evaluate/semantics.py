"""The version of the evaluation semantics: part of every kept state's key.

A state (`membership_states`) is reused by the next day only when it was computed by the
same semantics. Bump `SEMANTICS_VERSION` with any change to `compile/` or `evaluate/`
that can change a member set or a join time: an upgraded pipeline then recomputes from
history instead of carrying old results forward. `tests/evaluate/test_semantics_version.py`
fails when that code changes without a record of the version it belongs to.
"""

from __future__ import annotations

SEMANTICS_VERSION = 1
