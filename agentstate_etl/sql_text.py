"""Values that must be spelled inside SQL text, quoted in one place.

Values reach DuckDB as parameters (`?`) wherever a statement takes them. A few statements do
not (`ATTACH`, `LOAD`, `SET`, `CREATE SECRET`, `COPY ... TO`); there a path, URL or name is
written as a quoted literal or identifier by these functions, never pasted in, so a home
folder named `o'brien` is a path like any other.
"""

from __future__ import annotations


def literal(text: str) -> str:
    """A SQL string literal: `it's` -> `'it''s'`."""
    if "\x00" in text:
        raise ValueError("a SQL string cannot hold a NUL character")
    return "'" + text.replace("'", "''") + "'"


def identifier(name: str) -> str:
    """A quoted SQL identifier: a double quote inside is doubled."""
    if "\x00" in name:
        raise ValueError("a SQL identifier cannot hold a NUL character")
    return '"' + name.replace('"', '""') + '"'
