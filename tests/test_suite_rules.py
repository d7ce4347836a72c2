"""The suite's own rules, read from its source: every test asserts, every raises says what.

Two habits a test can lose without anyone noticing, checked with ``ast`` over every
``tests/**/*.py``:

- ``pytest.raises`` always has ``match=`` with a pattern that can fail (not ``None``, ``""``,
  ``".*"``), in the ``with`` form: the call form ``pytest.raises(E, func, *args)`` hands its
  keywords to ``func`` and cannot take ``match``.
- every test function (``test_*``) asserts something: an ``assert``, a ``pytest.raises``,
  ``pytest.fail``, or a call to a helper of the suite named ``assert*``, ``check*`` or
  ``expect*`` (leading ``_`` allowed) that itself asserts. A helper counts only if it is
  defined under ``tests/`` and asserts (directly or through another such helper): a
  package function called ``check_...`` proves nothing by its name.
- no ``assert`` on a constant (``assert True``, ``assert "text"``): it can never fail.

A failure names each offence as ``file:line``.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

TESTS = Path(__file__).resolve().parent
HELPER_PREFIXES = ("assert", "check", "expect")
#: ``match=`` values that match every message
EMPTY_PATTERNS = (None, "", ".*", ".+", ".", "^", "$", "(?s).*")


@dataclass(frozen=True, slots=True)
class Source:
    """One test file, parsed."""

    path: Path
    tree: ast.Module

    def where(self, node: ast.AST) -> str:
        return f"{self.path.relative_to(TESTS.parent).as_posix()}:{getattr(node, 'lineno', 0)}"


def _sources(root: Path = TESTS) -> list[Source]:
    return [
        Source(path, ast.parse(path.read_text("utf-8"), str(path)))
        for path in sorted(root.rglob("*.py"))
    ]


def _is_pytest(call: ast.Call, name: str) -> bool:
    func = call.func
    return (
        isinstance(func, ast.Attribute)
        and func.attr == name
        and isinstance(func.value, ast.Name)
        and func.value.id == "pytest"
    )


def _called_name(call: ast.Call) -> str:
    func = call.func
    if isinstance(func, ast.Attribute):
        return func.attr
    return func.id if isinstance(func, ast.Name) else ""


def _is_helper_name(name: str) -> bool:
    return name.lstrip("_").startswith(HELPER_PREFIXES)


def _functions(tree: ast.AST) -> Iterator[ast.FunctionDef | ast.AsyncFunctionDef]:
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            yield node


def _asserts(function: ast.AST, helpers: set[str]) -> bool:
    """Whether ``function``'s body asserts, or calls one of ``helpers``."""
    for node in ast.walk(function):
        if isinstance(node, ast.Assert):
            return True
        if isinstance(node, ast.Call) and (
            _is_pytest(node, "raises") or _is_pytest(node, "fail") or _called_name(node) in helpers
        ):
            return True
    return False


def asserting_helpers(sources: list[Source]) -> set[str]:
    """Names of the suite's ``assert*``/``check*``/``expect*`` helpers that really assert."""
    candidates = [
        function
        for source in sources
        for function in _functions(source.tree)
        if _is_helper_name(function.name)
    ]
    found: set[str] = set()
    while True:  # a helper may assert through another helper
        more = {f.name for f in candidates if f.name not in found and _asserts(f, found)}
        if not more:
            return found
        found |= more


def raises_without_match(sources: list[Source]) -> list[str]:
    """``pytest.raises`` calls that do not say what the error must say."""
    found: list[str] = []
    for source in sources:
        calls = [n for n in ast.walk(source.tree) if isinstance(n, ast.Call)]
        for node in sorted(calls, key=lambda call: call.lineno):
            if not _is_pytest(node, "raises"):
                continue
            match = next((k.value for k in node.keywords if k.arg == "match"), None)
            if len(node.args) > 1:
                found.append(f"{source.where(node)}: the call form cannot take match=; use with")
            elif match is None:
                found.append(f"{source.where(node)}: pytest.raises without match=")
            elif isinstance(match, ast.Constant) and match.value in EMPTY_PATTERNS:
                found.append(f"{source.where(node)}: match={match.value!r} matches anything")
    return found


def silent_tests(sources: list[Source]) -> list[str]:
    """Test functions with no assertion of any kind."""
    helpers = asserting_helpers(sources)
    return [
        f"{source.where(function)}: {function.name} asserts nothing"
        for source in sources
        for function in _functions(source.tree)
        if function.name.startswith("test_") and not _asserts(function, helpers)
    ]


def constant_asserts(sources: list[Source]) -> list[str]:
    """``assert`` statements whose test is a literal: they never fail (or always do)."""
    return [
        f"{source.where(node)}: assert on a constant"
        for source in sources
        for node in ast.walk(source.tree)
        if isinstance(node, ast.Assert) and isinstance(node.test, ast.Constant)
    ]


# --- the suite keeps the rules -------------------------------------------------------------

SUITE = _sources()


def test_the_suite_is_read() -> None:
    names = {source.path.name for source in SUITE}
    assert {"conftest.py", "test_suite_rules.py", "test_codecs.py", "test_client.py"} <= names
    assert len(SUITE) > 50


def test_every_pytest_raises_has_a_match() -> None:
    assert raises_without_match(SUITE) == []


def test_every_test_asserts_something() -> None:
    assert silent_tests(SUITE) == []


def test_no_assert_on_a_constant() -> None:
    assert constant_asserts(SUITE) == []


# --- the rules catch what they are for -----------------------------------------------------

BAD = """
import pytest

def check_quietly(x):
    return x > 1

def assert_positive(x):
    assert x > 0

def expect_positive_twice(x):
    assert_positive(x)
    assert_positive(x)

def test_plain():
    assert 1 + 1 == 2

def test_raises_bare():
    with pytest.raises(ValueError):
        int("x")

def test_raises_empty():
    with pytest.raises(ValueError, match=".*"):
        int("x")

def test_raises_call_form():
    pytest.raises(ValueError, int, "x", match="invalid")

def test_raises_with_match():
    with pytest.raises(ValueError, match="invalid literal"):
        int("x")

def test_nothing():
    int("1")

def test_only_a_helper_named_check():
    check_quietly(2)

def test_through_a_helper():
    expect_positive_twice(2)

def test_a_method_helper(thing):
    thing.assert_positive(2)

def test_fails_on_purpose():
    pytest.fail("unreachable")

def test_true():
    assert True

def helper_not_a_test():
    int("1")
"""


@pytest.fixture
def bad() -> list[Source]:
    return [Source(TESTS / "test_bad.py", ast.parse(BAD))]


def _lines(found: list[str]) -> list[str]:
    return [entry.split(":", 1)[1] for entry in found]


def line(text: str) -> int:
    """The line of ``BAD`` that holds ``text``."""
    (number,) = [n for n, got in enumerate(BAD.splitlines(), 1) if text in got]
    return number


def test_raises_without_a_useful_match_is_named_with_its_line(bad: list[Source]) -> None:
    assert _lines(raises_without_match(bad)) == [
        f"{line('raises(ValueError):')}: pytest.raises without match=",
        f"{line('match=' + chr(34) + '.*')}: match='.*' matches anything",
        f"{line('pytest.raises(ValueError, int')}: the call form cannot take match=; use with",
    ]


def test_a_test_that_asserts_nothing_is_named(bad: list[Source]) -> None:
    assert _lines(silent_tests(bad)) == [
        f"{line('def test_nothing')}: test_nothing asserts nothing",
        f"{line('def test_only_a')}: test_only_a_helper_named_check asserts nothing",
    ]


def test_only_helpers_that_assert_count(bad: list[Source]) -> None:
    assert asserting_helpers(bad) == {"assert_positive", "expect_positive_twice"}


def test_an_assert_on_a_constant_is_named(bad: list[Source]) -> None:
    assert _lines(constant_asserts(bad)) == [f"{line('assert True')}: assert on a constant"]


def test_an_offence_names_the_file_relative_to_the_project(bad: list[Source]) -> None:
    deeper = Source(TESTS / "push" / "test_bad.py", bad[0].tree)
    assert silent_tests([deeper])[0] == (
        f"tests/push/test_bad.py:{line('def test_nothing')}: test_nothing asserts nothing"
    )
