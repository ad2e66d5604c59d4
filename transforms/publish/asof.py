"""How the as-of macros read the time they are given: as UTC, whatever the session's zone.

History's timestamps are naive UTC. DuckDB's cast of a TIMESTAMPTZ to TIMESTAMP gives the
wall time in the session's ``TimeZone``, and its cast of text with an offset to TIMESTAMP
drops the offset; so any value whose text ends in an offset goes through TIMESTAMPTZ to UTC.
"""

from __future__ import annotations

# A time of day followed by a UTC offset (how a TIMESTAMPTZ prints, or text a user wrote).
_OFFSET = r"[0-9]:[0-9]{2}(:[0-9]{2}(\.[0-9]*)?)?\s*(Z|z|[+-][0-9]{2}(:?[0-9]{2})?)$"


def utc_timestamp(expression: str) -> str:
    """SQL for ``expression`` (a TIMESTAMP, TIMESTAMPTZ, DATE or text) as a naive UTC time."""
    return (
        f"CASE WHEN regexp_matches(CAST({expression} AS VARCHAR), '{_OFFSET}') "
        f"THEN timezone('UTC', CAST(CAST({expression} AS VARCHAR) AS TIMESTAMPTZ)) "
        f"ELSE CAST({expression} AS TIMESTAMP) END"
    )
