"""The leaderboard's database: one SQLite file of versioned scenarios and finished sweep cells.

SQLite (the standard library's ``sqlite3``) rather than DuckDB: the store is small (a row per world), written
by one process at a time, read by simple queries, and must survive a killed sweep; SQLite's transactions give
that atomicity with no extra dependency, and the file opens anywhere (``sqlite3`` CLI, pandas, DuckDB itself).

A **cell** is one world: (scenario content hash, ranker name, ranker hash, seed, code version). Its row is
inserted only after its Parquet files are on disk (written atomically), in one transaction, so a killed sweep
leaves either a whole cell or none, and a resumed sweep skips exactly the finished cells. The code version is
the package version plus a hash of the package's simulation and ranking code (``code_version``): a cell
computed by other code is never mixed with new ones, it is simply not found.

A **scenario id** is versioned like a Gymnasium id: ``<name>-v<k>``. The first content seen under a name is
``-v0``; a changed scenario (any resolved key but its description and seed count) gets the next version and
never overwrites the earlier one's cells.
"""

from __future__ import annotations

import json
import sqlite3
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from basketgym.contract.errors import InputFileError, OutputPathError
from basketgym.eval.orchestration.identity import scenario_hash
from basketgym.sim.config import ScenarioConfig, to_toml

SCHEMA = """
CREATE TABLE IF NOT EXISTS scenarios (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    version INTEGER NOT NULL,
    content_hash TEXT NOT NULL UNIQUE,
    toml TEXT NOT NULL,
    created TEXT NOT NULL,
    UNIQUE (name, version)
);
CREATE TABLE IF NOT EXISTS cells (
    scenario_hash TEXT NOT NULL REFERENCES scenarios (content_hash),
    ranker TEXT NOT NULL,
    ranker_hash TEXT NOT NULL,
    seed INTEGER NOT NULL,
    code_version TEXT NOT NULL,
    role TEXT NOT NULL,
    path TEXT NOT NULL,
    metrics TEXT NOT NULL,
    seconds REAL NOT NULL,
    created TEXT NOT NULL,
    PRIMARY KEY (scenario_hash, ranker, ranker_hash, seed, code_version)
);
"""


@dataclass(frozen=True)
class CellKey:
    """What makes two worlds the same cell."""

    scenario_hash: str
    ranker: str
    ranker_hash: str
    seed: int
    code_version: str


CELL_COLUMNS = {"scenario_hash", "ranker", "ranker_hash", "seed", "code_version", "role", "path", "metrics", "seconds",
                "created"}  # fmt: skip


class Store:
    """The sweep database (``<dir>/leaderboard.sqlite``): scenario versions and finished cells."""

    def __init__(self, path: Path):
        self.path = Path(path)
        if self.path.exists() and not self.path.is_file():
            raise InputFileError(f"{self.path}: not a leaderboard database (a directory)")
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self.db = sqlite3.connect(self.path, isolation_level=None, timeout=30)
            self.db.execute("PRAGMA journal_mode=WAL")
            self.db.executescript(SCHEMA)
            cols = {r[1] for r in self.db.execute("PRAGMA table_info(cells)")}
        except sqlite3.DatabaseError as e:
            raise InputFileError(f"{self.path}: not a leaderboard database ({e})") from None
        except OSError as e:
            raise OutputPathError(f"{self.path}: cannot be written ({e.strerror})") from None
        if cols != CELL_COLUMNS:
            self.db.close()
            raise InputFileError(f"{self.path}: a cells table of another shape ({', '.join(sorted(cols))})")

    def close(self) -> None:
        """Close the connection."""
        self.db.close()

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """``BEGIN IMMEDIATE`` ... ``COMMIT``: all or nothing (a killed process leaves no half row)."""
        self.db.execute("BEGIN IMMEDIATE")
        try:
            yield self.db
        except BaseException:
            self.db.execute("ROLLBACK")
            raise
        self.db.execute("COMMIT")

    def scenario_id(self, cfg: ScenarioConfig) -> str:
        """The versioned id of ``cfg``'s content, registering a new version when the content is new."""
        h = scenario_hash(cfg)
        with self.transaction() as db:
            row = db.execute("SELECT id FROM scenarios WHERE content_hash = ?", (h,)).fetchone()
            if row:
                return row[0]
            (top,) = db.execute("SELECT MAX(version) FROM scenarios WHERE name = ?", (cfg.name,)).fetchone()
            version = 0 if top is None else top + 1
            sid = f"{cfg.name}-v{version}"
            db.execute(
                "INSERT INTO scenarios VALUES (?, ?, ?, ?, ?, ?)",
                (sid, cfg.name, version, h, to_toml(cfg), time.strftime("%Y-%m-%dT%H:%M:%S")),
            )
            return sid

    def has(self, key: CellKey) -> bool:
        """Whether the cell is finished."""
        q = "SELECT 1 FROM cells WHERE scenario_hash=? AND ranker=? AND ranker_hash=? AND seed=? AND code_version=?"
        return self.db.execute(q, _key_tuple(key)).fetchone() is not None

    def add(self, key: CellKey, role: str, path: str, metrics: dict, seconds: float) -> None:
        """Record a finished cell (its files must already be written)."""
        with self.transaction() as db:
            db.execute(
                "INSERT OR REPLACE INTO cells VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (*_key_tuple(key), role, path, json.dumps(metrics, sort_keys=True), float(seconds),
                 time.strftime("%Y-%m-%dT%H:%M:%S")),
            )  # fmt: skip

    def cells(self, code: str | None = None) -> list[dict]:
        """Every finished cell (of one code version, if given), with its scenario id, as dicts."""
        q = (
            "SELECT s.id, s.name, s.version, c.scenario_hash, c.ranker, c.ranker_hash, c.seed, c.code_version, "
            "c.role, c.path, c.metrics, c.seconds FROM cells c JOIN scenarios s ON s.content_hash = c.scenario_hash"
            + (" WHERE c.code_version = ?" if code else "")
            + " ORDER BY s.id, c.ranker, c.seed"
        )
        cols = ["scenario_id", "scenario", "version", "scenario_hash", "ranker", "ranker_hash", "seed",
                "code_version", "role", "path", "metrics", "seconds"]  # fmt: skip
        rows = [dict(zip(cols, r, strict=True)) for r in self.db.execute(q, (code,) if code else ())]
        for r in rows:
            r["metrics"] = json.loads(r["metrics"])
        return rows

    def scenario_toml(self, scenario_id: str) -> str:
        """The resolved TOML a scenario id was registered with."""
        (text,) = self.db.execute("SELECT toml FROM scenarios WHERE id = ?", (scenario_id,)).fetchone()
        return text


def _key_tuple(key: CellKey) -> tuple:
    return (key.scenario_hash, key.ranker, key.ranker_hash, int(key.seed), key.code_version)
