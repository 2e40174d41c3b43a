"""Custom templates in SQLite."""

from __future__ import annotations

import sqlite3

import orjson

from ogmint.state.sqlite.db import Database
from ogmint.state.templates import TemplateMeta, TemplateSource

SCHEMA = """
CREATE TABLE IF NOT EXISTS templates (
    id TEXT PRIMARY KEY,
    owner TEXT NOT NULL,
    name TEXT NOT NULL,
    version TEXT NOT NULL,
    fields TEXT NOT NULL,
    source TEXT NOT NULL,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    sizes TEXT NOT NULL DEFAULT '[]',
    size_sources TEXT NOT NULL DEFAULT '{}'
);
CREATE INDEX IF NOT EXISTS templates_owner ON templates (owner, created_at);
"""
#: Databases made before templates had a document per size (SPEC §5.1).
MIGRATIONS = (
    "ALTER TABLE templates ADD COLUMN sizes TEXT NOT NULL DEFAULT '[]'",
    "ALTER TABLE templates ADD COLUMN size_sources TEXT NOT NULL DEFAULT '{}'",
)

_META = "id, owner, name, version, fields, created_at, updated_at, sizes"


def _sizes(source: TemplateSource) -> str:
    """The size documents as one JSON object (preset → document)."""
    return orjson.dumps(dict(source.sizes)).decode()


class SqliteTemplates:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def create_template(self, meta: TemplateMeta, source: TemplateSource, limit: int) -> bool:
        def run(db: sqlite3.Connection) -> bool:
            (count,) = db.execute(
                "SELECT count(*) FROM templates WHERE owner = ?", (meta.owner,)
            ).fetchone()
            if count >= limit:
                return False
            db.execute(
                f"INSERT INTO templates ({_META}, source, size_sources) "  # noqa: S608
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    meta.id,
                    meta.owner,
                    meta.name,
                    meta.version,
                    meta.fields,
                    meta.created_at,
                    meta.updated_at,
                    meta.sizes,
                    source.svg,
                    _sizes(source),
                ),
            )
            return True

        return await self._db.run(run, True)

    async def update_template(
        self, meta: TemplateMeta, source: TemplateSource
    ) -> TemplateMeta | None:
        def run(db: sqlite3.Connection) -> TemplateMeta | None:
            cur = db.execute(
                "UPDATE templates SET name = ?, version = ?, fields = ?, sizes = ?, source = ?, "
                "size_sources = ?, updated_at = ? WHERE owner = ? AND id = ?",
                (
                    meta.name,
                    meta.version,
                    meta.fields,
                    meta.sizes,
                    source.svg,
                    _sizes(source),
                    meta.updated_at,
                    meta.owner,
                    meta.id,
                ),
            )
            if cur.rowcount == 0:
                return None
            row = db.execute(
                f"SELECT {_META} FROM templates WHERE id = ?",  # noqa: S608
                (meta.id,),
            ).fetchone()
            return TemplateMeta(*row)

        return await self._db.run(run, True)

    async def delete_template(self, owner: str, template_id: str) -> bool:
        cur = await self._db.run(
            lambda db: db.execute(
                "DELETE FROM templates WHERE owner = ? AND id = ?", (owner, template_id)
            ),
            True,
        )
        return cur.rowcount > 0

    async def get_template(
        self, owner: str, template_id: str
    ) -> tuple[TemplateMeta, TemplateSource] | None:
        row = await self._db.run(
            lambda db: db.execute(
                f"SELECT {_META}, source, size_sources FROM templates "  # noqa: S608
                "WHERE owner = ? AND id = ?",
                (owner, template_id),
            ).fetchone()
        )
        if not row:
            return None
        return TemplateMeta(*row[:8]), TemplateSource(str(row[8]), orjson.loads(row[9]))

    async def list_templates(self, owner: str) -> list[TemplateMeta]:
        rows = await self._db.run(
            lambda db: db.execute(
                f"SELECT {_META} FROM templates WHERE owner = ? "  # noqa: S608
                "ORDER BY created_at DESC, id DESC",
                (owner,),
            ).fetchall()
        )
        return [TemplateMeta(*row) for row in rows]

    async def template_version(self, owner: str, template_id: str) -> str | None:
        row = await self._db.run(
            lambda db: db.execute(
                "SELECT version FROM templates WHERE owner = ? AND id = ?", (owner, template_id)
            ).fetchone()
        )
        return str(row[0]) if row else None
