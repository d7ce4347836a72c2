"""An embedded Akeneo-compatible PIM on loopback, for trying feeds, demos and end-to-end tests.

    with start_sandbox() as sb:          # demo catalog, in-memory state, a free port
        settings = Settings(base_url=sb.url, client_id=sb.client_id, ...)
        ...
        sb.state.product("tshirt-red-m")  # read what was written

Modules: ``server`` (Sandbox, start_sandbox, the CLI), ``api`` (the Flask application),
``routes`` (one module of routes per resource), ``host`` (what the routes see of a
sandbox), ``updater`` (checks and merges one product line), ``attribute_filter`` (the
values Akeneo drops silently), ``search`` (the product list filters), ``assets`` (one
asset upsert), ``store`` (SQLite), ``catalog`` (the catalog file and its lookups),
``auth`` (tokens), ``faults`` (seeded limits and faults), ``state`` (products as GET
shows them).
"""

from __future__ import annotations

from feed_export.sandbox.faults import Faults, SandboxStats
from feed_export.sandbox.server import (
    DEMO_CLIENT_ID,
    DEMO_CLIENT_SECRET,
    DEMO_PASSWORD,
    DEMO_USERNAME,
    Sandbox,
    main,
    serve_forever_cli,
    start_sandbox,
)

__all__ = [
    "DEMO_CLIENT_ID",
    "DEMO_CLIENT_SECRET",
    "DEMO_PASSWORD",
    "DEMO_USERNAME",
    "Faults",
    "Sandbox",
    "SandboxStats",
    "main",
    "serve_forever_cli",
    "start_sandbox",
]
