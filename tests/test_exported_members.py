"""The public front: ``feed_export`` exports exactly these names, and the error tree is whole."""

from __future__ import annotations

import importlib
import inspect
import pkgutil

import feed_export
from feed_export import errors

PUBLIC = {
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
    "TransportError",
    "Tracking",
    "__version__",
    "load_settings",
    "pull_frame",
    "push_frame",
    "run_delete",
    "run_pull",
    "run_push",
}


def test_the_public_names_are_exactly_these() -> None:
    assert set(feed_export.__all__) == PUBLIC
    assert set(feed_export._WHERE) == PUBLIC - {"__version__"}  # each loads from its module
    for name in PUBLIC:
        assert hasattr(feed_export, name), name


def test_importing_the_package_loads_nothing_else() -> None:
    import subprocess
    import sys

    code = "import sys, feed_export; print(sorted(m for m in sys.modules if m.startswith('feed_export')))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "['feed_export', 'feed_export._version']"


def test_public_names_come_from_feed_export() -> None:
    for name in PUBLIC - {"__version__"}:
        member = getattr(feed_export, name)
        assert member.__module__.startswith("feed_export."), (name, member.__module__)


def _all_modules() -> list[str]:
    names = []
    for info in pkgutil.walk_packages(feed_export.__path__, "feed_export."):
        if ".sandbox" in info.name or info.name.endswith("__main__"):
            continue  # the sandbox plays the PIM (its errors are HTTP answers); mains run
        names.append(info.name)
    return names


def test_every_public_exception_is_in_the_tree_that_errors_draws() -> None:
    tree = errors.__doc__ or ""
    found = set()
    for module_name in _all_modules():
        module = importlib.import_module(module_name)
        for name, member in inspect.getmembers(module, inspect.isclass):
            if member.__module__ != module_name or name.startswith("_"):
                continue
            if issubclass(member, BaseException):
                found.add(name)
                assert issubclass(member, errors.FeedExportError), f"{module_name}.{name}"
                assert f" {name} " in tree, f"{module_name}.{name} is not drawn in errors.py"
    assert {"FeedExportError", "HeaderSyntaxError", "JournalBusy", "RunAborted"} <= found
