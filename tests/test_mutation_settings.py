"""Mutation testing's settings and bench/mutation.py's bookkeeping (mutmut itself not run)."""

from __future__ import annotations

import importlib.util
import sys
import tomllib
from pathlib import Path
from types import ModuleType

import pytest

ROOT = Path(__file__).resolve().parent.parent


def _load_script() -> ModuleType:
    spec = importlib.util.spec_from_file_location("bench_mutation", ROOT / "bench" / "mutation.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up
    spec.loader.exec_module(module)
    return module


mutation = _load_script()


def test_every_guard_is_in_step_with_the_tree_and_the_plain_run() -> None:
    table, guards = mutation.load_settings(ROOT)
    assert mutation.check_settings(ROOT, table, guards, list(guards.values())) == []
    assert {"headers", "layout", "codecs", "akeneo", "planner", "feedback"} <= set(guards)


def test_out_of_step_settings_are_named() -> None:
    table = {"only_mutate": ["feed_export/feed/*.py"], "pytest_add_cli_args_test_selection": []}
    guard = mutation.Guard("x", ("feed_export/catalog/layout.py",), ("tests/nope.py",))
    other = mutation.Guard("y", ("feed_export/feed/headers.py",), ("tests/feed",))
    table["pytest_add_cli_args_test_selection"] = ["tests/feed", "tests/stray.py"]
    assert mutation.check_settings(ROOT, table, {"x": guard, "y": other}, [guard]) == [
        "guard x: feed_export/catalog/layout.py is missing from only_mutate",
        "guard x: tests/nope.py does not exist",
        "guard x: tests/nope.py is missing from pytest_add_cli_args_test_selection",
        "tests/stray.py in pytest_add_cli_args_test_selection guards nothing (no guard lists it)",
    ]


def test_a_guards_copy_mutates_its_modules_with_its_tests_only() -> None:
    text = (ROOT / "pyproject.toml").read_text("utf-8")
    table, guards = mutation.load_settings(ROOT)
    rewritten = tomllib.loads(mutation.guard_pyproject(text, table, guards["layout"]))
    assert rewritten["tool"]["mutmut"] == {
        **table,
        "only_mutate": ["feed_export/catalog/layout.py"],
        "pytest_add_cli_args_test_selection": ["tests/catalog/test_layout.py"],
    }
    assert "guards" not in rewritten["tool"]["mutmut"]
    # the rest of the file is kept: pytest still finds its settings in the copy
    original = tomllib.loads(text)
    assert rewritten["tool"]["pytest"] == original["tool"]["pytest"]
    assert rewritten["project"] == original["project"]


def test_scores_per_module() -> None:
    guard = mutation.Guard("g", ("feed_export/a.py", "feed_export/b.py"), ())
    results = {
        "feed_export.a.x_f__mutmut_1": "killed",
        "feed_export.a.x_f__mutmut_2": "survived",
        "feed_export.a.xǁCǁm__mutmut_1": "timeout",
        "feed_export.a.x_g__mutmut_1": "no tests",
        "feed_export.ab.x_f__mutmut_1": "survived",  # another module, same prefix letters
        "feed_export.b.x_h__mutmut_1": "killed",
        "feed_export.b.x_h__mutmut_2": "not checked",
    }
    assert mutation.scores(guard, results) == [
        mutation.Score("feed_export/a.py", 4, 1, 1, 1, 1, 0),
        mutation.Score("feed_export/b.py", 2, 1, 0, 0, 0, 1),
    ]
    assert mutation.Score("m", 4, 1, 1, 1, 1, 0).percent == pytest.approx(50.0)
    assert mutation.Score("m", 0, 0, 0, 0, 0, 0).percent == pytest.approx(100.0)
    assert sorted(mutation.survivors(results)) == [
        "feed_export.a.x_f__mutmut_2",
        "feed_export.a.x_g__mutmut_1",
        "feed_export.ab.x_f__mutmut_1",
        "feed_export.b.x_h__mutmut_2",
    ]


def test_a_part_scores_its_functions_only() -> None:
    part = mutation.Part("p", "feed_export/a.py", ("f", "C.m"))
    results = {
        "feed_export.a.x_f__mutmut_1": "killed",
        "feed_export.a.x_f__mutmut_2": "survived",
        "feed_export.a.xǁCǁm__mutmut_1": "timeout",
        "feed_export.a.xǁCǁm__mutmut_2": "no tests",
        "feed_export.a.x_f2__mutmut_1": "survived",  # another function, same prefix letters
        "feed_export.a.xǁCǁm2__mutmut_1": "survived",
        "feed_export.a.x_m__mutmut_1": "survived",  # a function named like the method
        "feed_export.ab.x_f__mutmut_1": "survived",  # another module
        "feed_export.a.x_f__mutmut_3": "not checked",
    }
    assert mutation.part_score(part, results) == mutation.Score("p (2 functions)", 5, 1, 1, 1, 1, 1)


def test_the_parts_name_functions_of_guarded_modules() -> None:
    _, guards = mutation.load_settings(ROOT)
    guarded = {path for guard in guards.values() for path in guard.paths}
    parts = mutation.load_parts(ROOT)
    assert parts, "no [tool.mutmut.parts]"
    for part in parts:
        assert part.path in guarded, part.name
        source = (ROOT / part.path).read_text("utf-8")
        for function in part.functions:
            name = function.rpartition(".")[2]
            assert f"def {name}(" in source, (part.name, function)
