"""What the sandbox's routes need from a running sandbox: its state, catalog, tokens and stats.

The routes see the sandbox through this Protocol only, so ``api`` and ``routes`` never
import ``server`` (which imports them to build the application).
"""

from __future__ import annotations

from typing import Protocol

from feed_export.sandbox.auth import TokenStore
from feed_export.sandbox.catalog import SandboxCatalog
from feed_export.sandbox.faults import SandboxStats
from feed_export.sandbox.store import SandboxStore
from feed_export.sandbox.updater import Updater


class SandboxHost(Protocol):
    """The parts of ``server.Sandbox`` that answer requests."""

    client_id: str
    client_secret: str
    username: str
    password: str
    store: SandboxStore
    catalog: SandboxCatalog
    updater: Updater
    tokens: TokenStore
    stats: SandboxStats
