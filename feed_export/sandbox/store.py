"""The sandbox PIM's state in SQLite: catalog, products, product models, assets and media files.

One connection shared by the server's threads (``check_same_thread=False``) behind one
lock: SQLite serialises writers anyway, and one connection is the only way an in-memory
database is shared. Every write is its own transaction (autocommit), so each line of a
collection PATCH is saved on its own, as Akeneo does; a file database uses WAL with
``synchronous=NORMAL`` so that per-line commits stay cheap.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS products (
    uuid TEXT PRIMARY KEY,
    identifier TEXT UNIQUE COLLATE NOCASE,
    body TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS product_models (
    code TEXT PRIMARY KEY COLLATE NOCASE,
    body TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS products_parent ON products (json_extract(body, '$.parent'));
CREATE INDEX IF NOT EXISTS product_models_parent
    ON product_models (json_extract(body, '$.parent'));
CREATE TABLE IF NOT EXISTS assets (
    family TEXT NOT NULL,
    code TEXT NOT NULL COLLATE NOCASE,
    body TEXT NOT NULL,
    PRIMARY KEY (family, code)
);
CREATE TABLE IF NOT EXISTS asset_media_files (
    code TEXT PRIMARY KEY,
    original_filename TEXT NOT NULL,
    mime_type TEXT NOT NULL,
    size INTEGER NOT NULL,
    extension TEXT NOT NULL,
    content BLOB NOT NULL
);
CREATE TABLE IF NOT EXISTS media_files (
    code TEXT PRIMARY KEY,
    original_filename TEXT NOT NULL,
    mime_type TEXT NOT NULL,
    size INTEGER NOT NULL,
    extension TEXT NOT NULL,
    content BLOB NOT NULL
);
"""


_CHUNK = 200  # rows read per lock hold when iterating a table


@dataclass(frozen=True, slots=True)
class MediaFile:
    code: str
    original_filename: str
    mime_type: str
    size: int
    extension: str
    content: bytes


def _load(text: str) -> dict[str, Any]:
    data: dict[str, Any] = orjson.loads(text)
    return data


def _dump(data: dict[str, Any]) -> str:
    return orjson.dumps(data).decode("utf-8")


class SandboxStore:
    """Products, product models and media files, read and written as Akeneo JSON.

    Hold ``lock`` around a read-check-write sequence that must not interleave with
    another request's (the collection PATCH does, per line).
    """

    def __init__(self, db: str | Path = ":memory:") -> None:
        self.path = str(db)
        self.lock = threading.RLock()
        self._conn = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None)
        if self.path != ":memory:":
            self._conn.execute("PRAGMA journal_mode=WAL")
            self._conn.execute("PRAGMA synchronous=NORMAL")
        self._conn.executescript(_SCHEMA)
        self._unique_attributes: frozenset[str] = frozenset()
        self._unique_owner: dict[tuple[str, str], str] = {}
        self._unique_keys: dict[str, set[tuple[str, str]]] = {}

    def close(self) -> None:
        with self.lock:
            self._conn.close()

    # -- catalog -------------------------------------------------------------------------
    def load_catalog(self) -> dict[str, Any] | None:
        with self.lock:
            row = self._conn.execute("SELECT value FROM meta WHERE key = 'catalog'").fetchone()
        return None if row is None else _load(row[0])

    def save_catalog(self, data: dict[str, Any]) -> None:
        with self.lock:
            self._conn.execute(
                "INSERT INTO meta (key, value) VALUES ('catalog', ?) "
                "ON CONFLICT(key) DO UPDATE SET value = excluded.value",
                (_dump(data),),
            )

    # -- products ------------------------------------------------------------------------
    def product_by_identifier(self, identifier: str) -> dict[str, Any] | None:
        """The product whose identifier matches, case-insensitively (as in MySQL)."""
        with self.lock:
            row = self._conn.execute(
                "SELECT body FROM products WHERE identifier = ?", (identifier,)
            ).fetchone()
        return None if row is None else _load(row[0])

    def product_by_uuid(self, uuid: str) -> dict[str, Any] | None:
        with self.lock:
            row = self._conn.execute(
                "SELECT body FROM products WHERE uuid = ?", (uuid.lower(),)
            ).fetchone()
        return None if row is None else _load(row[0])

    def save_product(self, product: dict[str, Any]) -> None:
        """Insert or replace one product (its ``uuid`` is the key)."""
        uuid = product["uuid"]
        with self.lock:
            self._conn.execute(
                "INSERT INTO products (uuid, identifier, body) VALUES (?, ?, ?) "
                "ON CONFLICT(uuid) DO UPDATE SET identifier = excluded.identifier, "
                "body = excluded.body",
                (uuid, product.get("identifier"), _dump(product)),
            )
            self._index_unique(uuid, product)

    def products(self) -> list[dict[str, Any]]:
        """Every product, by identifier."""
        with self.lock:
            rows = self._conn.execute("SELECT body FROM products ORDER BY identifier").fetchall()
        return [_load(r[0]) for r in rows]

    def count_products(self) -> int:
        with self.lock:
            row = self._conn.execute("SELECT COUNT(*) FROM products").fetchone()
        return int(row[0])

    def delete_product(self, uuid: str) -> None:
        with self.lock:
            self._conn.execute("DELETE FROM products WHERE uuid = ?", (uuid,))
            for key in self._unique_keys.pop(uuid, set()):
                if self._unique_owner.get(key) == uuid:
                    del self._unique_owner[key]

    def iter_products(self, after: int = 0) -> Iterator[tuple[int, dict[str, Any]]]:
        """(rowid, product) in creation order from rowid ``after`` on, read in chunks.

        The lock is held per chunk only, so a long listing does not stall writers; rows
        written meanwhile are seen if they come after the current position.
        """
        return self._iter_rows("products", after)

    def child_products(self, parent: str) -> list[dict[str, Any]]:
        """The variant products whose parent is this model (its code as stored)."""
        with self.lock:
            rows = self._conn.execute(
                "SELECT body FROM products WHERE json_extract(body, '$.parent') = ?", (parent,)
            ).fetchall()
        return [_load(r[0]) for r in rows]

    # -- product models ------------------------------------------------------------------
    def product_model(self, code: str) -> dict[str, Any] | None:
        with self.lock:
            row = self._conn.execute(
                "SELECT body FROM product_models WHERE code = ?", (code,)
            ).fetchone()
        return None if row is None else _load(row[0])

    def save_product_model(self, model: dict[str, Any]) -> None:
        with self.lock:
            self._conn.execute(
                "INSERT INTO product_models (code, body) VALUES (?, ?) "
                "ON CONFLICT(code) DO UPDATE SET code = excluded.code, body = excluded.body",
                (model["code"], _dump(model)),
            )

    def delete_product_model(self, code: str) -> None:
        with self.lock:
            self._conn.execute("DELETE FROM product_models WHERE code = ?", (code,))

    def iter_product_models(self, after: int = 0) -> Iterator[tuple[int, dict[str, Any]]]:
        """(rowid, product model) in creation order from rowid ``after`` on."""
        return self._iter_rows("product_models", after)

    def _iter_rows(self, table: str, after: int) -> Iterator[tuple[int, dict[str, Any]]]:
        query = f"SELECT rowid, body FROM {table} WHERE rowid > ? ORDER BY rowid LIMIT ?"
        last = after
        while True:
            with self.lock:
                rows = self._conn.execute(query, (last, _CHUNK)).fetchall()
            for rowid, body in rows:
                yield int(rowid), _load(body)
            if len(rows) < _CHUNK:
                return
            last = int(rows[-1][0])

    def child_models(self, parent: str) -> list[dict[str, Any]]:
        """The sub-models whose parent is this model (its code as stored)."""
        with self.lock:
            rows = self._conn.execute(
                "SELECT body FROM product_models WHERE json_extract(body, '$.parent') = ?",
                (parent,),
            ).fetchall()
        return [_load(r[0]) for r in rows]

    def product_models(self) -> list[dict[str, Any]]:
        with self.lock:
            rows = self._conn.execute("SELECT body FROM product_models ORDER BY code").fetchall()
        return [_load(r[0]) for r in rows]

    # -- media files ---------------------------------------------------------------------
    def save_media_file(self, media: MediaFile) -> None:
        with self.lock:
            self._conn.execute(
                "INSERT OR REPLACE INTO media_files VALUES (?, ?, ?, ?, ?, ?)",
                (
                    media.code,
                    media.original_filename,
                    media.mime_type,
                    media.size,
                    media.extension,
                    media.content,
                ),
            )

    def media_file(self, code: str) -> MediaFile | None:
        with self.lock:
            row = self._conn.execute(
                "SELECT code, original_filename, mime_type, size, extension, content "
                "FROM media_files WHERE code = ?",
                (code,),
            ).fetchone()
        return None if row is None else MediaFile(*row)

    def has_media_file(self, code: str) -> bool:
        with self.lock:
            row = self._conn.execute("SELECT 1 FROM media_files WHERE code = ?", (code,)).fetchone()
        return row is not None

    def delete_media_file(self, code: str) -> None:
        with self.lock:
            self._conn.execute("DELETE FROM media_files WHERE code = ?", (code,))

    # -- assets (asset manager) -----------------------------------------------------------
    def asset(self, family: str, code: str) -> dict[str, Any] | None:
        """The asset of ``family`` (exact) whose code matches case-insensitively."""
        with self.lock:
            row = self._conn.execute(
                "SELECT body FROM assets WHERE family = ? AND code = ?", (family, code)
            ).fetchone()
        return None if row is None else _load(row[0])

    def save_asset(self, family: str, asset: dict[str, Any]) -> None:
        with self.lock:
            self._conn.execute(
                "INSERT INTO assets (family, code, body) VALUES (?, ?, ?) "
                "ON CONFLICT(family, code) DO UPDATE SET body = excluded.body",
                (family, asset["code"], _dump(asset)),
            )

    def iter_assets(self, family: str, after: str | None = None) -> Iterator[dict[str, Any]]:
        """The family's assets sorted by code (case-insensitively), after ``after``."""
        query = "SELECT code, body FROM assets WHERE family = ? AND code > ? ORDER BY code LIMIT ?"
        last = after or ""
        while True:
            with self.lock:
                rows = self._conn.execute(query, (family, last, _CHUNK)).fetchall()
            for _code, body in rows:
                yield _load(body)
            if len(rows) < _CHUNK:
                return
            last = rows[-1][0]

    def save_asset_media_file(self, media: MediaFile) -> None:
        with self.lock:
            self._conn.execute(
                "INSERT OR REPLACE INTO asset_media_files VALUES (?, ?, ?, ?, ?, ?)",
                (
                    media.code,
                    media.original_filename,
                    media.mime_type,
                    media.size,
                    media.extension,
                    media.content,
                ),
            )

    def asset_media_file(self, code: str) -> MediaFile | None:
        with self.lock:
            row = self._conn.execute(
                "SELECT code, original_filename, mime_type, size, extension, content "
                "FROM asset_media_files WHERE code = ?",
                (code,),
            ).fetchone()
        return None if row is None else MediaFile(*row)

    # -- unique attribute values ---------------------------------------------------------
    def index_unique_attributes(self, codes: Iterable[str]) -> None:
        """Remember which values of these attributes are taken, and by which product."""
        with self.lock:
            self._unique_attributes = frozenset(codes)
            self._unique_owner.clear()
            self._unique_keys.clear()
            if self._unique_attributes:
                for product in self._iter_products():
                    self._index_unique(product["uuid"], product)

    def unique_owner(self, attribute: str, data: Any) -> str | None:
        """The uuid of the product that holds this value of a unique attribute, if any."""
        return self._unique_owner.get((attribute, _unique_key(data)))

    def _iter_products(self) -> Iterator[dict[str, Any]]:
        for (body,) in self._conn.execute("SELECT body FROM products"):
            yield _load(body)

    def _index_unique(self, uuid: str, product: dict[str, Any]) -> None:
        if not self._unique_attributes:
            return
        for key in self._unique_keys.pop(uuid, set()):
            if self._unique_owner.get(key) == uuid:
                del self._unique_owner[key]
        keys: set[tuple[str, str]] = set()
        for code in self._unique_attributes:
            for value in product.get("values", {}).get(code, ()):
                key = (code, _unique_key(value["data"]))
                keys.add(key)
                self._unique_owner[key] = uuid
        self._unique_keys[uuid] = keys


def _unique_key(data: Any) -> str:
    return data if isinstance(data, str) else orjson.dumps(data).decode("utf-8")
