"""A dry run's look at the files rows name by path (``files.PathCheck``), held to the push.

Each case is checked twice: by ``PathCheck.problem`` (``stat`` only) and by the reader a
live push uses (``FileReader``: ``source_key`` then ``read``); both must say the same
words. Then: each file is looked at once, nothing is opened, and the row's wording
(``rows.file_failures``) is the planner's.
"""

from __future__ import annotations

import builtins
import io
import mimetypes
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import pytest
from conftest import DEMO_CATALOG, run_cli

import feed_export.push.files as files_module
from feed_export.push.assets import AssetDone, asset_failure
from feed_export.push.decode import AssetRef, MediaRef, ProductLine
from feed_export.push.files import FileProblem, FileReader, MediaLimits, PathCheck
from feed_export.push.media import not_saved
from feed_export.push.rows import file_failures

PNG = b"\x89PNG\r\n\x1a\n a small png"
IMAGES = frozenset({"jpg", "png"})
NOT_FOUND = "file not found: {} (paths are relative to the feed's folder)"
DEFAULT_LIMITS = MediaLimits()
OUTSIDE = "the path leads outside the feed's folder: only files inside it are read"


def _folder(tmp_path: Path) -> Path:
    """A feed's folder: ``feed/`` with pictures, a folder, links; ``outside.png`` beside it."""
    feed = tmp_path / "feed"
    (feed / "pictures" / "folder.png").mkdir(parents=True)
    (feed / "pictures" / "ok.png").write_bytes(PNG)
    (feed / "pictures" / "doc.txt").write_text("text", encoding="utf-8")
    (tmp_path / "outside.png").write_bytes(PNG)
    (feed / "pictures" / "out.png").symlink_to(tmp_path / "outside.png")
    (feed / "pictures" / "in.png").symlink_to(feed / "pictures" / "ok.png")
    (feed / "pictures" / "text.png").symlink_to(feed / "pictures" / "doc.txt")
    (feed / "pictures" / "dangling.png").symlink_to(feed / "pictures" / "gone.png")
    with (feed / "pictures" / "big.png").open("wb") as fh:
        fh.truncate(2 * 1024 * 1024 + 1)  # sparse: nothing written
    os.mkfifo(feed / "pictures" / "pipe.png")
    return feed


def _ref(
    source: str,
    *,
    kind: Literal["url", "path"] = "path",
    allowed: frozenset[str] = IMAGES,
    max_bytes: int | None = 2 * 1024 * 1024,
    image: bool = True,
) -> MediaRef:
    return MediaRef(
        "picture",
        None,
        None,
        source,
        kind,
        "picture",
        allowed,
        max_bytes,
        image,
    )


@dataclass(frozen=True)
class Case:
    id: str
    ref: MediaRef
    problem: str | None
    limits: MediaLimits = DEFAULT_LIMITS


CASES = [
    Case("a file in the folder", _ref("pictures/ok.png"), None),
    Case("backslashes", _ref("pictures\\ok.png"), None),
    Case("a link that stays inside", _ref("pictures/in.png"), None),
    Case("missing", _ref("pictures/gone.png"), NOT_FOUND.format("pictures/gone.png")),
    Case("a dangling link", _ref("pictures/dangling.png"), NOT_FOUND.format("pictures/gone.png")),
    Case("a folder", _ref("pictures/folder.png"), "not a file"),
    Case("a fifo, never opened", _ref("pictures/pipe.png"), "not a file"),
    Case("up and out", _ref("../outside.png"), OUTSIDE),
    Case("up and back in", _ref("../feed/pictures/ok.png"), None),
    Case("a link leading out", _ref("pictures/out.png"), OUTSIDE),
    Case(
        "an absolute path",
        _ref("/etc/hosts.png"),
        "absolute paths are not read: write the path relative to the feed's folder",
    ),
    Case(
        "out, with --allow-outside-folder's limits",
        _ref("../outside.png"),
        None,
        MediaLimits(allow_outside_folder=True),
    ),
    Case(
        "over the attribute's limit",
        _ref("pictures/big.png"),
        "file too large: 2,097,153 bytes, over the limit of picture (2,097,152 bytes)",
    ),
    Case("no attribute limit", _ref("pictures/big.png", max_bytes=None), None),
    Case(
        "over the limit for any file",
        _ref("pictures/big.png", max_bytes=None),
        "file too large: 2.0 MB, over the limit for any file (1.0 MB)",
        MediaLimits(max_bytes=1024 * 1024),
    ),
    Case(
        "a link to a type the column refuses",
        _ref("pictures/text.png", image=False, allowed=frozenset({"png"})),
        "file type .txt (text/plain) is not allowed here (allowed: png)",
    ),
    Case(
        "a link to a text for an image",
        _ref("pictures/text.png", allowed=frozenset()),
        "not an image: the server sent text/plain",
    ),
    Case("a URL is not fetched", _ref("https://cdn.invalid/a.png", kind="url"), None),
]


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_a_path_is_judged_as_the_push_reads_it(case: Case, tmp_path: Path) -> None:
    feed = _folder(tmp_path)
    found = PathCheck(feed, case.limits).problem(case.ref)
    assert (found.message if found else None) == case.problem
    if case.ref.kind == "url" or "fifo" in case.id:
        return  # the reader would fetch it, or block opening it
    reader = FileReader(feed_dir=feed, limits=case.limits)
    source = reader.source_key(case.ref)
    live = source if isinstance(source, FileProblem) else reader.read(case.ref, source, None)
    assert (live.message if isinstance(live, FileProblem) else None) == case.problem


def test_each_path_and_each_file_is_looked_at_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    feed = _folder(tmp_path)
    looked: list[Path] = []
    resolved: list[str] = []
    regular_file = files_module._regular_file
    identity = files_module.file_identity

    def counted_look(path: Path, folder: Path) -> os.stat_result:
        looked.append(path)
        return regular_file(path, folder)

    def counted_identity(ref: MediaRef, folder: Path, allow: bool = False) -> Any:
        resolved.append(ref.source)
        return identity(ref, folder, allow)

    monkeypatch.setattr(files_module, "_regular_file", counted_look)
    monkeypatch.setattr(files_module, "file_identity", counted_identity)
    check = PathCheck(feed)
    sources = ["pictures/ok.png", "pictures/gone.png", "pictures/in.png"] * 3
    verdicts = [check.problem(_ref(s)) for s in sources]
    assert [v is None for v in verdicts] == [True, False, True] * 3
    assert sorted(resolved) == sorted(set(sources))  # each source resolved once
    # in.png is a link to ok.png: one file, looked at once
    assert sorted(p.name for p in looked) == ["gone.png", "ok.png"]


def test_a_file_that_may_not_be_read(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """What reading it would meet, asked without reading (the suite may run as root, who
    reads everything: the permission is faked)."""
    feed = _folder(tmp_path)
    monkeypatch.setattr(files_module.os, "access", lambda path, mode: False)
    check = PathCheck(feed)
    found = check.problem(_ref("pictures/ok.png"))
    assert found == FileProblem("cannot read the file (Permission denied)")
    # the type and the size are judged first, as the reader judges them before reading
    big = check.problem(_ref("pictures/big.png"))
    assert big is not None and big.message.startswith("file too large: ")


def test_nothing_is_opened(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    feed = _folder(tmp_path)
    mimetypes.init()  # reads the system's types: done before opening is forbidden

    def refuse(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError(f"opened {args[:1]}")

    for target, name in ((builtins, "open"), (io, "open"), (os, "open")):
        monkeypatch.setattr(target, name, refuse)
    check = PathCheck(feed)
    for source in ("pictures/ok.png", "pictures/pipe.png", "pictures/big.png"):
        check.problem(_ref(source))
    with pytest.raises(AssertionError, match="opened"):
        Path(feed / "pictures" / "ok.png").read_bytes()  # the guard holds


# --- the row's words -------------------------------------------------------------------


def _asset(source: str, code: str) -> AssetRef:
    file = MediaRef("media", None, None, source, "path", "packshots", IMAGES, None, True)
    return AssetRef("asset", "packshots", code, False, file, "packshots", None, None)


def test_a_rows_failures_are_worded_and_ordered_as_the_push_words_them(tmp_path: Path) -> None:
    feed = _folder(tmp_path)
    good, gone = _asset("pictures/ok.png", "ok"), _asset("pictures/gone.png", "gone")
    picture = _ref("../outside.png")
    body = (
        b'{"identifier":"A","values":{"packshots":[{"locale":null,"scope":null,'
        b'"data":["ok","gone"]}]}}'
    )
    line = ProductLine(2, "A", body, media=(picture,), assets=(good, gone), notes=("n",))
    sent, status, failures = file_failures(line, PathCheck(feed))
    assert status == 422
    assert failures == [
        asset_failure(gone, NOT_FOUND.format("pictures/gone.png")),  # assets go first
        not_saved(picture, OUTSIDE),
    ]
    assert failures == [
        "packshots: pictures/gone.png: " + NOT_FOUND.format("pictures/gone.png"),
        f"picture not saved (../outside.png): {OUTSIDE}",
    ]
    # the failed asset is left out of the line, as the push leaves it out
    assert sent.body == body.replace(b',"gone"', b"")
    assert sent.notes == ("n",)


@pytest.mark.parametrize(
    "line",
    [
        ProductLine(2, "A", b"{}"),
        ProductLine(2, "A", b"{}", media=(_ref("pictures/ok.png"),)),
        ProductLine(2, "A", b"{}", assets=(_asset("pictures/ok.png", "ok"),)),
    ],
    ids=["no files", "a good picture", "a good asset"],
)
def test_a_row_whose_files_are_there_is_left_as_it_is(line: ProductLine, tmp_path: Path) -> None:
    assert file_failures(line, PathCheck(_folder(tmp_path))) == (line, None, [])


def test_a_failed_asset_keeps_the_pushs_status(tmp_path: Path) -> None:
    ref = _asset("nope.png", "nope")
    _, status, failures = file_failures(
        ProductLine(2, "A", b"{}", assets=(ref,)), PathCheck(_folder(tmp_path))
    )
    done = AssetDone(422, asset_failure(ref, NOT_FOUND.format("nope.png")))
    assert (status, failures) == (done.status, [done.message])


# --- where the check runs ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("header", "rows", "made", "asked"),
    [
        ("sku,name~en_US", ["A,x", "B,y"], 0, 0),
        ("sku,picture,packshots", ["A,,", "B,pictures/ok.png,", "C,,", "D,,x.png"], 1, 2),
        ("sku,picture", ["A,https://cdn.invalid/a.png", "B,"], 1, 1),
    ],
    ids=["no file column", "file cells on some rows", "a URL, not fetched"],
)
def test_the_check_runs_only_for_the_cells_that_name_files(
    header: str,
    rows: list[str],
    made: int,
    asked: int,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    calls = {"made": 0, "asked": 0}
    init, problem = PathCheck.__init__, PathCheck.problem

    def counted_init(self: PathCheck, *args: Any, **kwargs: Any) -> None:
        calls["made"] += 1
        init(self, *args, **kwargs)

    def counted_problem(self: PathCheck, ref: MediaRef) -> FileProblem | None:
        calls["asked"] += 1
        return problem(self, ref)

    monkeypatch.setattr(PathCheck, "__init__", counted_init)
    monkeypatch.setattr(PathCheck, "problem", counted_problem)
    feed = _folder(tmp_path) / "feed.csv"
    feed.write_text("\n".join([header, *rows]) + "\n", encoding="utf-8")
    result = run_cli(["check", str(feed), "--catalog", str(DEMO_CATALOG), "-q"])
    assert result.code in (0, 1), result.err
    assert calls == {"made": made, "asked": asked}
