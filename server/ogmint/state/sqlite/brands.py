"""Brands in SQLite."""

from __future__ import annotations

import sqlite3

from ogmint.state.brands import BrandMeta
from ogmint.state.sqlite.db import Database

SCHEMA = """
CREATE TABLE IF NOT EXISTS brands (
    id TEXT PRIMARY KEY,
    owner TEXT NOT NULL,
    name TEXT NOT NULL,
    look TEXT NOT NULL,
    version TEXT NOT NULL,
    logo BLOB NOT NULL,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS brands_owner ON brands (owner, created_at);
"""

_META = "id, owner, name, look, version, created_at, updated_at"


class SqliteBrands:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def create_brand(self, meta: BrandMeta, logo: bytes, limit: int) -> bool:
        def run(db: sqlite3.Connection) -> bool:
            (count,) = db.execute(
                "SELECT count(*) FROM brands WHERE owner = ?", (meta.owner,)
            ).fetchone()
            if count >= limit:
                return False
            db.execute(
                f"INSERT INTO brands ({_META}, logo) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",  # noqa: S608
                (
                    meta.id,
                    meta.owner,
                    meta.name,
                    meta.look,
                    meta.version,
                    meta.created_at,
                    meta.updated_at,
                    logo,
                ),
            )
            return True

        return await self._db.run(run, True)

    async def update_brand(self, meta: BrandMeta, logo: bytes) -> BrandMeta | None:
        def run(db: sqlite3.Connection) -> BrandMeta | None:
            cur = db.execute(
                "UPDATE brands SET name = ?, look = ?, version = ?, logo = ?, updated_at = ? "
                "WHERE owner = ? AND id = ?",
                (meta.name, meta.look, meta.version, logo, meta.updated_at, meta.owner, meta.id),
            )
            if cur.rowcount == 0:
                return None
            row = db.execute(
                f"SELECT {_META} FROM brands WHERE id = ?",  # noqa: S608
                (meta.id,),
            ).fetchone()
            return BrandMeta(*row)

        return await self._db.run(run, True)

    async def delete_brand(self, owner: str, brand_id: str) -> bool:
        cur = await self._db.run(
            lambda db: db.execute(
                "DELETE FROM brands WHERE owner = ? AND id = ?", (owner, brand_id)
            ),
            True,
        )
        return cur.rowcount > 0

    async def get_brand(self, owner: str, brand_id: str) -> tuple[BrandMeta, bytes] | None:
        row = await self._db.run(
            lambda db: db.execute(
                f"SELECT {_META}, logo FROM brands WHERE owner = ? AND id = ?",  # noqa: S608
                (owner, brand_id),
            ).fetchone()
        )
        return (BrandMeta(*row[:7]), bytes(row[7])) if row else None

    async def list_brands(self, owner: str) -> list[BrandMeta]:
        rows = await self._db.run(
            lambda db: db.execute(
                f"SELECT {_META} FROM brands WHERE owner = ? "  # noqa: S608
                "ORDER BY created_at DESC, id DESC",
                (owner,),
            ).fetchall()
        )
        return [BrandMeta(*row) for row in rows]

    async def brand_version(self, owner: str, brand_id: str) -> str | None:
        row = await self._db.run(
            lambda db: db.execute(
                "SELECT version FROM brands WHERE owner = ? AND id = ?", (owner, brand_id)
            ).fetchone()
        )
        return str(row[0]) if row else None
