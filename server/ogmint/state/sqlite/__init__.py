"""Embedded state: every aggregate in one SQLite file (one module per aggregate)."""

from __future__ import annotations

from pathlib import Path

from ogmint.state.sqlite import (
    accounts,
    brands,
    deliveries,
    keys,
    limits,
    renders,
    repeats,
    signing_keys,
    templates,
    usage,
)
from ogmint.state.sqlite.atomic import SqliteAtomicSteps
from ogmint.state.sqlite.db import Database
from ogmint.state.store import State


def sqlite_state(path: Path) -> State:
    """The state on the SQLite file at ``path`` (created when opened)."""
    db = Database(
        path,
        [
            keys.SCHEMA,
            limits.SCHEMA,
            renders.SCHEMA,
            deliveries.SCHEMA,
            signing_keys.SCHEMA,
            templates.SCHEMA,
            brands.SCHEMA,
            accounts.SCHEMA,
            usage.SCHEMA,
            repeats.SCHEMA,
        ],
        (*renders.MIGRATIONS, *templates.MIGRATIONS),
    )
    return State(
        backend=db,
        keys=keys.SqliteKeys(db),
        limits=limits.SqliteLimits(db),
        renders=renders.SqliteRenders(db),
        deliveries=deliveries.SqliteDeliveries(db),
        signing_keys=signing_keys.SqliteSigningKeys(db),
        templates=templates.SqliteTemplates(db),
        brands=brands.SqliteBrands(db),
        atomic=SqliteAtomicSteps(db),
        accounts=accounts.SqliteAccounts(db),
        usage=usage.SqliteUsage(db),
        repeats=repeats.SqliteRepeats(db),
    )
