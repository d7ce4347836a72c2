"""feed_export: product feeds (CSV, XLSX) into Akeneo PIM and back, with line-by-line feedback.

The public front: what a Python pipeline needs, importable from ``feed_export``: push a
feed (``run_push``), pull the PIM into one (``run_pull``), delete what a feed names
(``run_delete``), and DataFrames both ways (``push_frame``, ``pull_frame``: pandas is an
optional extra, imported only by them). A test
locks these names (``tests/test_exported_members.py``); everything else is internal and
may move. The names load on first use, so that ``feed-export --help`` starts fast.

>>> from feed_export import Catalog, ExportOptions, run_push  # doctest: +SKIP
>>> report = run_push(Path("feed.csv"), ExportOptions(dry_run=True),
...                   catalog=Catalog.from_file(Path("catalog.json")))  # doctest: +SKIP
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from feed_export._version import __version__

#: public name -> the module that defines it
_WHERE = {
    "AuthenticationError": "feed_export.errors",
    "Catalog": "feed_export.catalog.structure",
    "CellError": "feed_export.errors",
    "ConfigError": "feed_export.errors",
    "ExportOptions": "feed_export.config",
    "FeedError": "feed_export.errors",
    "FeedExportError": "feed_export.errors",
    "FeedReadError": "feed_export.errors",
    "FeedSource": "feed_export.feed.source",
    "HeaderError": "feed_export.errors",
    "Interrupt": "feed_export.push.interrupt",
    "RetrySettings": "feed_export.config",
    "RunAborted": "feed_export.errors",
    "RunReport": "feed_export.report.model",
    "RunTargets": "feed_export.push.run",
    "Settings": "feed_export.config",
    "StartupError": "feed_export.errors",
    "TransportError": "feed_export.errors",
    "Tracking": "feed_export.push.tracking",
    "load_settings": "feed_export.config",
    "run_push": "feed_export.push.run",
    "MissingPolicy": "feed_export.push.missing",
    "PullOptions": "feed_export.config",
    "PullReport": "feed_export.report.pull",
    "pull_frame": "feed_export.frames",
    "push_frame": "feed_export.frames",
    "run_delete": "feed_export.push.delete",
    "run_pull": "feed_export.pull.run",
}

__all__ = [
    "AuthenticationError",
    "Catalog",
    "CellError",
    "ConfigError",
    "ExportOptions",
    "FeedError",
    "FeedExportError",
    "FeedReadError",
    "FeedSource",
    "HeaderError",
    "Interrupt",
    "MissingPolicy",
    "PullOptions",
    "PullReport",
    "RetrySettings",
    "RunAborted",
    "RunReport",
    "RunTargets",
    "Settings",
    "StartupError",
    "Tracking",
    "TransportError",
    "__version__",
    "load_settings",
    "pull_frame",
    "push_frame",
    "run_delete",
    "run_pull",
    "run_push",
]


def __getattr__(name: str) -> Any:
    module = _WHERE.get(name)
    if module is None:
        raise AttributeError(f"module 'feed_export' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(__all__)


if TYPE_CHECKING:
    from feed_export.catalog.structure import Catalog
    from feed_export.config import (
        ExportOptions,
        PullOptions,
        RetrySettings,
        Settings,
        load_settings,
    )
    from feed_export.errors import (
        AuthenticationError,
        CellError,
        ConfigError,
        FeedError,
        FeedExportError,
        FeedReadError,
        HeaderError,
        RunAborted,
        StartupError,
        TransportError,
    )
    from feed_export.feed.source import FeedSource
    from feed_export.frames import pull_frame, push_frame
    from feed_export.pull.run import run_pull
    from feed_export.push.delete import run_delete
    from feed_export.push.interrupt import Interrupt
    from feed_export.push.missing import MissingPolicy
    from feed_export.push.run import RunTargets, run_push
    from feed_export.push.tracking import Tracking
    from feed_export.report.model import RunReport
    from feed_export.report.pull import PullReport
