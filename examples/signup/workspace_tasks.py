"""The workspace service's task, in Python: services of one flow need not share a language.

The signup API (TypeScript) schedules `populateWorkspace` by its task key; this worker
serves it:

    WORKSPACE_DB=workspace.db python -m taskwire serve signup/workspace_tasks.py:populate_workspace
"""

from __future__ import annotations

import os
import sqlite3

from taskwire import task

STARTER_ITEMS = [
    "Read the getting-started guide",
    "Invite a teammate",
    "Create your first project",
    "Upload a profile picture",
    "Connect your calendar",
    "Try the mobile app",
    "Set up notifications",
    "Explore the templates",
    "Join the community forum",
    "Book an onboarding call",
]


def _connect() -> sqlite3.Connection:
    # 30 s: workers of several processes may write at once; SQLite makes them take turns.
    db = sqlite3.connect(os.environ.get("WORKSPACE_DB", "workspace.db"), timeout=30)
    db.execute("PRAGMA journal_mode = WAL")
    db.execute(
        """CREATE TABLE IF NOT EXISTS items (
             user_id TEXT NOT NULL,
             position INTEGER NOT NULL,
             title TEXT NOT NULL,
             PRIMARY KEY (user_id, position)
           )"""
    )
    return db


@task(name="populateWorkspace", retries=3, retry_delay_seconds=1)
def populate_workspace(user: dict) -> dict:
    """Writes the user's ten starter items, and never an eleventh.

    Idempotent twice over: the API schedules it with the idempotency key
    `workspace:<user id>` (one run per user), and each item has its place (user, position),
    so an attempt redelivered after a crash rewrites nothing it already wrote.
    """
    db = _connect()
    try:
        with db:
            db.executemany(
                "INSERT OR IGNORE INTO items (user_id, position, title) VALUES (?, ?, ?)",
                [(user["id"], position, title) for position, title in enumerate(STARTER_ITEMS, start=1)],
            )
        (count,) = db.execute("SELECT count(*) FROM items WHERE user_id = ?", (user["id"],)).fetchone()
        return {"items": count}
    finally:
        db.close()
