"""docs/warehouse.md against the warehouse itself: every table and view the warehouse has is
documented with every column it has, and the document names nothing the warehouse lacks."""

from __future__ import annotations

import re
from contextlib import closing
from pathlib import Path

from agentstate_etl.warehouse.session import ALIAS, open_session
from tests.e2e.conftest import Backfill

DOC = Path(__file__).parents[2] / "docs" / "warehouse.md"
HEADING = re.compile(r"^### (.+)$")
NAME = re.compile(r"`([a-z_][a-z0-9_]*)`")
# a section's own sentence naming its key columns ("One row per `vendor, tenant_id, ...`")
KEY_LIST = re.compile(r"[Oo]ne row per `([a-z0-9_,\s]+)`")
INTERNAL = "Other tables"  # named, their columns not documented: their shape may change


def documented() -> dict[str, set[str] | None]:
    """Table or view -> the columns its section of the Tables chapter documents: the names in
    the first cell of its column table and its key sentence, or, for a section of prose, every
    name it mentions but its own and other relations'; None for the internal tables."""
    chapter = DOC.read_text().split("\n## Tables\n", 1)[1].split("\n## ", 1)[0]
    sections = {}
    for section in re.split(r"\n(?=### )", chapter):
        heading, _, body = section.partition("\n")
        if match := HEADING.match(heading.strip()):
            sections[match.group(1)] = body
    internal = set(NAME.findall(sections.pop(INTERNAL)))
    relations: dict[str, set[str] | None] = dict.fromkeys(internal)
    named = {name for heading in sections for name in NAME.findall(heading)}
    for heading, body in sections.items():
        lines = body.splitlines()
        columns = {
            name
            for line in lines
            if line.startswith("| `")
            for name in NAME.findall(line.split("|")[1])
        }
        for keys in KEY_LIST.findall(body):
            columns |= {k.strip() for k in keys.split(",")}
        if not any(line.startswith("| `") for line in lines):
            columns |= set(NAME.findall(body)) - named - internal
        for name in NAME.findall(heading):
            relations[name] = columns
    return relations


def catalog(backfill: Backfill) -> dict[str, set[str]]:
    with closing(open_session(backfill.warehouse, read_only=True)) as con:
        rows = con.execute(
            "SELECT table_name, column_name FROM information_schema.columns "
            "WHERE table_catalog = ? AND table_schema = 'main'",
            [ALIAS],
        ).fetchall()
    relations: dict[str, set[str]] = {}
    for table, column in rows:
        relations.setdefault(table, set()).add(column)
    return relations


def test_every_table_and_view_is_documented_with_its_columns(backfill: Backfill) -> None:
    docs, actual = documented(), catalog(backfill)
    disagreements = {
        "undocumented tables or views": sorted(set(actual) - set(docs)),
        "documented, not in the warehouse": sorted(set(docs) - set(actual)),
        **{
            f"{table}: undocumented columns": sorted(actual[table] - (docs[table] or set()))
            for table in actual
            if docs.get(table) is not None and actual[table] - docs[table]  # type: ignore[operator]
        },
        **{
            f"{table}: documented columns it lacks": sorted(columns - actual[table])
            for table, columns in docs.items()
            if columns is not None and table in actual and columns - actual[table]
        },
    }
    found = {k: v for k, v in disagreements.items() if v}
    assert not found, "\n".join(f"{k}: {v}" for k, v in found.items())
