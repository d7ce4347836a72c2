"""Mutation testing, one guard or all: mutmut's score per module, and where the survivors are.

    python bench/mutation.py                       # every guard
    python bench/mutation.py headers layout        # some guards
    python bench/mutation.py --list                # the guards, their modules and tests
    python bench/mutation.py headers --survivors   # re-test only the last run's survivors

A guard is an entry of ``[tool.mutmut.guards]`` in pyproject.toml: the modules mutmut
mutates and the tests that guard them. Each guard runs in its own copy of the tree
(``bench/out/mutation/<guard>/``, the checkout as it is, uncommitted changes included),
whose ``[tool.mutmut]`` is rewritten to mutate that guard's modules and run that guard's
tests only: a score says how well a module's own tests guard it, and one guard's results
never mix with another's. The copy stays after the run: ``mutmut results`` and
``mutmut show NAME`` in it read the survivors (docs/TESTING.md).

A part (``[tool.mutmut.parts]``) is some functions of a guarded module scored on their own,
printed under the guard's rows: the client's classification and retry code, say.

A run starts from scratch (mutmut does not notice edited tests); ``--survivors`` instead
re-tests the previous run's survivors after copying the tree again, the quick loop while
writing the tests that kill them. Not run in CI: a guard takes minutes.
"""

from __future__ import annotations

import argparse
import fnmatch
import functools
import importlib.metadata
import json
import os
import shutil
import subprocess
import sys
import time
import tomllib
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
WORK = ROOT / "bench" / "out" / "mutation"
MUTMUT_VERSION = "3.8.1"
#: what a guard's copy holds: the package, the tests and what the tests read
COPIED = ("pyproject.toml", "feed_export", "tests", "sample_feeds")
IGNORED = shutil.ignore_patterns("__pycache__", "*.pyc", ".hypothesis", ".pytest_cache")
#: mutmut's statuses (``mutmut results``) that count as the tests noticing the mutant
DETECTED = ("killed", "caught by type check")
TIMED_OUT = ("timeout", "segfault")  # stopped by the CPU limit: an endless loop


@dataclass(frozen=True, slots=True)
class Guard:
    """Modules mutmut mutates and the tests that guard them."""

    name: str
    paths: tuple[str, ...]
    tests: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Score:
    """One module's mutants counted by outcome."""

    module: str
    mutants: int
    killed: int
    timeouts: int
    survived: int
    no_tests: int
    other: int  # suspicious, not checked (an interrupted run), skipped

    @property
    def percent(self) -> float:
        return 100.0 * (self.killed + self.timeouts) / self.mutants if self.mutants else 100.0


@dataclass(frozen=True, slots=True)
class Part:
    """Some functions of a guarded module, scored together (``[tool.mutmut.parts]``)."""

    name: str
    path: str
    functions: tuple[str, ...]  # ``name`` or ``Class.method``

    def holds(self, mutant: str) -> bool:
        """Whether ``mutant`` (mutmut's name for it) changes one of the functions."""
        module, _, rest = mutant.rpartition(".")
        if module != module_of(self.path):
            return False
        function = rest.rpartition("__mutmut_")[0]
        return any(function == _mutmut_name(name) for name in self.functions)


def _mutmut_name(function: str) -> str:
    """``f`` -> ``x_f``; ``Class.method`` -> ``xǁClassǁmethod`` (how mutmut names them)."""
    owner, _, name = function.rpartition(".")
    return f"xǁ{owner}ǁ{name}" if owner else f"x_{name}"


def load_settings(root: Path = ROOT) -> tuple[dict[str, Any], dict[str, Guard]]:
    """``[tool.mutmut]`` (without the guards and parts) and the guards, by name."""
    table = dict(tomllib.loads((root / "pyproject.toml").read_text("utf-8"))["tool"]["mutmut"])
    table.pop("parts", None)
    guards = {
        name: Guard(name, tuple(entry["paths"]), tuple(entry["tests"]))
        for name, entry in table.pop("guards").items()
    }
    return table, guards


def load_parts(root: Path = ROOT) -> list[Part]:
    """The parts of ``[tool.mutmut.parts]``, in their order."""
    table = tomllib.loads((root / "pyproject.toml").read_text("utf-8"))["tool"]["mutmut"]
    return [
        Part(name, entry["path"], tuple(entry["functions"]))
        for name, entry in table.get("parts", {}).items()
    ]


def check_settings(
    root: Path, table: dict[str, Any], guards: dict[str, Guard], chosen: list[Guard]
) -> list[str]:
    """What is out of step between ``chosen``, the plain ``mutmut run`` lists and the tree."""
    problems: list[str] = []
    only = table.get("only_mutate", [])
    selection = table.get("pytest_add_cli_args_test_selection", [])
    wanted = [test for guard in guards.values() for test in guard.tests]
    for guard in chosen:
        for path in guard.paths:
            if not (root / path).is_file():
                problems.append(f"guard {guard.name}: {path} does not exist")
            if not any(fnmatch.fnmatch(path, pattern) for pattern in only):
                problems.append(f"guard {guard.name}: {path} is missing from only_mutate")
        for test in guard.tests:
            if not (root / test).exists():
                problems.append(f"guard {guard.name}: {test} does not exist")
            if test not in selection:
                problems.append(
                    f"guard {guard.name}: {test} is missing from pytest_add_cli_args_test_selection"
                )
    problems.extend(
        f"{test} in pytest_add_cli_args_test_selection guards nothing (no guard lists it)"
        for test in selection
        if test not in wanted
    )
    return problems


def guard_pyproject(text: str, table: dict[str, Any], guard: Guard) -> str:
    """pyproject.toml with its ``[tool.mutmut]`` tables replaced by one for ``guard``."""
    kept: list[str] = []
    skipping = False
    for line in text.splitlines():
        stripped = line.strip()
        if stripped.startswith("[") and not stripped.startswith("[["):
            name = stripped.strip("[]").strip()
            skipping = name == "tool.mutmut" or name.startswith("tool.mutmut.")
        if not skipping:
            kept.append(line)
    settings = {
        **table,
        "only_mutate": list(guard.paths),
        "pytest_add_cli_args_test_selection": list(guard.tests),
    }
    body = "\n".join(f"{key} = {_toml(value)}" for key, value in settings.items())
    result = "\n".join(kept).rstrip() + f"\n\n[tool.mutmut]\n{body}\n"
    parsed = tomllib.loads(result)["tool"]["mutmut"]
    assert parsed == settings, "the rewritten [tool.mutmut] does not read back"
    return result


def _toml(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, str):
        return json.dumps(value)  # a JSON string is a TOML basic string
    if isinstance(value, list):
        return "[" + ", ".join(_toml(item) for item in value) + "]"
    raise TypeError(f"no TOML for {value!r} in [tool.mutmut]")


def copy_tree(root: Path, work: Path) -> None:
    """The checkout's files a run needs, as they are now, into ``work``."""
    work.mkdir(parents=True, exist_ok=True)
    for name in COPIED:
        source = root / name
        if source.is_dir():
            shutil.copytree(source, work / name, ignore=IGNORED, dirs_exist_ok=True)
        elif source.is_file():
            shutil.copy2(source, work / name)


@functools.cache
def mutmut_command() -> tuple[str, ...]:
    """The ``mutmut`` executable (``python -m mutmut`` re-imports itself and warns)."""
    beside = Path(sys.executable).with_name("mutmut")
    found = str(beside) if beside.is_file() else shutil.which("mutmut")
    if found is None:
        sys.exit("mutmut is not installed: pip install -e '.[dev]'")
    try:
        version = importlib.metadata.version("mutmut")
    except importlib.metadata.PackageNotFoundError:
        version = "?"
    if version != MUTMUT_VERSION:
        print(f"note: mutmut {version}; the recorded scores are from {MUTMUT_VERSION}")
    return (found,)


def run_mutmut(work: Path, args: list[str], *, verbose: bool) -> int:
    """``mutmut ARGS`` in ``work``; its output goes to ``work/mutmut.log`` unless verbose."""
    env = dict(os.environ)
    # tests that start a subprocess import the mutated package too; the folder must exist
    # before python starts, or its import system remembers it as missing
    (work / "mutants").mkdir(exist_ok=True)
    env["PYTHONPATH"] = str(work / "mutants")
    env.pop("MUTANT_UNDER_TEST", None)
    command = [*mutmut_command(), *args]
    if verbose:
        return subprocess.run(command, cwd=work, env=env, check=False).returncode
    with (work / "mutmut.log").open("w", encoding="utf-8") as log:
        return subprocess.run(
            command, cwd=work, env=env, stdout=log, stderr=subprocess.STDOUT, check=False
        ).returncode


def read_results(work: Path) -> dict[str, str]:
    """Every mutant's status, by name (``mutmut results --all true``)."""
    done = subprocess.run(
        [*mutmut_command(), "results", "--all", "true"],
        cwd=work,
        capture_output=True,
        text=True,
        check=True,
    )
    results: dict[str, str] = {}
    for line in done.stdout.splitlines():
        name, sep, status = line.strip().rpartition(": ")
        if sep and name.startswith("feed_export."):
            results[name] = status
    return results


def module_of(path: str) -> str:
    """``feed_export/feed/headers.py`` -> ``feed_export.feed.headers``."""
    return path.removesuffix(".py").replace("/", ".")


def scores(guard: Guard, results: dict[str, str]) -> list[Score]:
    """One score per module of the guard."""
    found: list[Score] = []
    for path in guard.paths:
        prefix = module_of(path) + "."
        counts = Counter(status for name, status in results.items() if name.startswith(prefix))
        killed = sum(counts[s] for s in DETECTED)
        timeouts = sum(counts[s] for s in TIMED_OUT)
        survived, no_tests = counts["survived"], counts["no tests"]
        total = sum(counts.values())
        found.append(
            Score(
                path,
                total,
                killed,
                timeouts,
                survived,
                no_tests,
                total - killed - timeouts - survived - no_tests,
            )
        )
    return found


def part_score(part: Part, results: dict[str, str]) -> Score:
    """The score of a part's functions alone."""
    counts = Counter(status for name, status in results.items() if part.holds(name))
    killed = sum(counts[s] for s in DETECTED)
    timeouts = sum(counts[s] for s in TIMED_OUT)
    survived, no_tests = counts["survived"], counts["no tests"]
    total = sum(counts.values())
    other = total - killed - timeouts - survived - no_tests
    label = f"{part.name} ({len(part.functions)} functions)"
    return Score(label, total, killed, timeouts, survived, no_tests, other)


def survivors(results: dict[str, str]) -> list[str]:
    """The mutants no test noticed (and those an interrupted run left unchecked)."""
    noticed = (*DETECTED, *TIMED_OUT, "skipped")
    return [name for name, status in results.items() if status not in noticed]


def run_guard(
    guard: Guard, table: dict[str, Any], work: Path, *, again: bool, jobs: int, verbose: bool
) -> list[Score] | None:
    """Mutate and test one guard in its copy; its scores, or None if mutmut failed."""
    names: list[str] = []
    if again:
        previous = work / "survivors.txt"
        if previous.is_file() and _same_sources(guard, work):
            names = previous.read_text("utf-8").split()
            if not names:
                print(f"{guard.name}: no survivors to re-test")
                return scores(guard, read_results(work))
        else:
            print(f"{guard.name}: no earlier run of these sources; running every mutant")
            again = False
    if not again and work.exists():
        shutil.rmtree(work)
    copy_tree(ROOT, work)
    pyproject = work / "pyproject.toml"
    pyproject.write_text(guard_pyproject(pyproject.read_text("utf-8"), table, guard), "utf-8")
    what = f"{len(names)} survivors" if again else "every mutant"
    log = "" if verbose else f" (log: {_shown(work / 'mutmut.log')})"
    print(f"{guard.name}: mutmut on {', '.join(guard.paths)}, {what}{log}", flush=True)
    started = time.monotonic()
    code = run_mutmut(work, ["run", "--max-children", str(jobs), *names], verbose=verbose)
    if code != 0:
        print(f"{guard.name}: mutmut failed (exit {code}); see its log")
        return None
    results = read_results(work)
    left = survivors(results)
    (work / "survivors.txt").write_text("".join(f"{name}\n" for name in left), "utf-8")
    print(f"{guard.name}: done in {time.monotonic() - started:.0f}s, {len(left)} survivor(s)")
    return scores(guard, results)


def _same_sources(guard: Guard, work: Path) -> bool:
    """Whether the guard's modules are unchanged since the run in ``work``."""
    return all(
        (work / path).is_file() and (work / path).read_bytes() == (ROOT / path).read_bytes()
        for path in guard.paths
    )


def _shown(path: Path) -> str:
    return str(path.relative_to(ROOT)) if path.is_relative_to(ROOT) else str(path)


def print_table(rows: list[tuple[str, Score]]) -> None:
    head = ("guard", "module", "mutants", "killed", "timeouts", "survived", "no tests", "score")
    lines = [head] + [
        (
            name,
            s.module,
            str(s.mutants),
            str(s.killed),
            str(s.timeouts),
            str(s.survived),
            str(s.no_tests) + (f" (+{s.other} other)" if s.other else ""),
            f"{s.percent:.1f}%",
        )
        for name, s in rows
    ]
    widths = [max(len(line[i]) for line in lines) for i in range(len(head))]
    for line in lines:
        cells = [
            cell.ljust(width) if i < 2 else cell.rjust(width)
            for i, (cell, width) in enumerate(zip(line, widths, strict=True))
        ]
        print("  ".join(cells).rstrip())


def main(argv: list[str] | None = None) -> int:
    table, guards = load_settings()
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument(
        "guards", nargs="*", metavar="GUARD", help=f"{', '.join(guards)}; all if none"
    )
    parser.add_argument("--list", action="store_true", help="print the guards and stop")
    parser.add_argument(
        "--survivors", action="store_true", help="re-test the last run's survivors only"
    )
    parser.add_argument("-j", "--jobs", type=int, default=os.cpu_count() or 2, help="workers")
    parser.add_argument("--workdir", type=Path, default=WORK, help=f"default {_shown(WORK)}")
    parser.add_argument("-v", "--verbose", action="store_true", help="show mutmut's output")
    args = parser.parse_args(argv)

    if args.list:
        for guard in guards.values():
            print(f"{guard.name}: {' '.join(guard.paths)}\n    tests: {' '.join(guard.tests)}")
        return 0
    unknown = [name for name in args.guards if name not in guards]
    if unknown:
        parser.error(f"unknown guard(s) {', '.join(unknown)}; the guards: {', '.join(guards)}")
    chosen = [guards[name] for name in args.guards] or list(guards.values())
    problems = check_settings(ROOT, table, guards, chosen)
    if problems:
        print("[tool.mutmut] in pyproject.toml is out of step:", *problems, sep="\n  ")
        return 2

    rows: list[tuple[str, Score]] = []
    failed: list[str] = []
    for guard in chosen:
        work = args.workdir.resolve() / guard.name
        found = run_guard(
            guard, table, work, again=args.survivors, jobs=args.jobs, verbose=args.verbose
        )
        if found is None:
            failed.append(guard.name)
            continue
        rows.extend((guard.name, score) for score in found)
        parts = [part for part in load_parts() if part.path in guard.paths]
        if parts:
            results = read_results(work)
            rows.extend((guard.name, part_score(part, results)) for part in parts)
    print()
    print_table(rows)
    print()
    for guard in chosen:
        work = args.workdir.resolve() / guard.name
        if guard.name not in failed:
            print(f"{guard.name} survivors: {_shown(work / 'survivors.txt')}")
    print("read one: cd <its folder> && mutmut show NAME   (all: mutmut results; mutmut browse)")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
