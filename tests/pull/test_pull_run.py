"""``run_pull`` against the sandbox: formats, filters, failures, progress, media files."""

from __future__ import annotations

import gzip
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import pytest
from conftest import copy_sample, settings_of

from feed_export.akeneo.client import AkeneoClient
from feed_export.config import ExportOptions, PullOptions
from feed_export.errors import ConfigError, StartupError, TransportError
from feed_export.feed.reader import open_feed
from feed_export.pull.run import output_format, run_pull
from feed_export.push.run import RunTargets, run_push
from feed_export.sandbox import Sandbox

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def filled(sandbox: Sandbox, tmp_path: Path) -> Sandbox:
    """The sandbox holding the sample feeds' products."""
    for name in ("apparel.csv", "electronics.xlsx"):
        run_push(copy_sample(name, tmp_path), ExportOptions(), settings=settings_of(sandbox),
                 targets=RunTargets(feedback=tmp_path / f"{name}.feedback"))  # fmt: skip
    return sandbox


def rows_of(path: Path) -> tuple[tuple[str, ...], list[tuple[str, ...]]]:
    feed = open_feed(path)
    with feed:
        return feed.header, [row.cells for row in feed.rows()]


@pytest.mark.parametrize("name", ["out.csv", "out.tsv", "out.csv.gz", "out.xlsx"],
                         ids=["csv", "tsv", "csv-gz", "xlsx"])  # fmt: skip
def test_every_format_holds_the_same_rows(filled: Sandbox, tmp_path: Path, name: str) -> None:
    reference = tmp_path / "reference.csv"
    run_pull(PullOptions(), reference, settings=settings_of(filled))
    target = tmp_path / name
    report = run_pull(PullOptions(), target, settings=settings_of(filled))
    assert report.exit_code == 0 and report.products == 9 and report.pages == 1
    assert rows_of(target) == rows_of(reference)
    if name.endswith(".gz"):
        assert gzip.decompress(target.read_bytes()).startswith(b"identifier")
    if name.endswith(".tsv"):
        assert target.read_text().startswith("identifier\tfamily\t")
    assert not list(tmp_path.glob("*.part*"))


@pytest.mark.parametrize(
    ("options", "expected"),
    [
        ({"families": ("electronics",)}, ["HP-5001", "SP-5002", "PH-5003", "BT-5004"]),
        ({"categories": ("bags",)}, ["BG-4001"]),
        ({"identifiers": ("dr-3001", "PH-5003", "NOPE")}, ["DR-3001", "PH-5003"]),
        ({"search": {"brand": [{"operator": "IN", "value": ["northwind"]}]}}, ["JK-2001"]),
        ({"enabled": False}, []),
        ({"updated_since": "2000-01-01T00:00:00+00:00", "families": ("accessories",)},
         ["BG-4001"]),
    ],
    ids=["family", "category", "identifiers", "search", "disabled", "updated-since"],
)  # fmt: skip
def test_filters_choose_the_products(
    filled: Sandbox, tmp_path: Path, options: dict[str, Any], expected: list[str]
) -> None:
    target = tmp_path / "out.csv"
    report = run_pull(PullOptions(**options), target, settings=settings_of(filled))
    assert report.exit_code == 0
    # sorted: the PIM lists in its own order (creation), and a product with pictures is
    # created after its assets
    assert sorted(row[0] for row in rows_of(target)[1]) == sorted(expected)


def test_a_pull_that_fails_midway_leaves_the_target_as_it_was(
    filled: Sandbox, tmp_path: Path
) -> None:
    class Failing(AkeneoClient):
        def list_pages(
            self,
            resource: str,
            params: Mapping[str, str] | None = None,
            *,
            missing_ok: bool = False,
        ) -> Iterator[list[dict[str, Any]]]:
            pages = super().list_pages(resource, params, missing_ok=missing_ok)
            first = next(pages, None)
            if first is None:
                return
            yield first
            if resource in ("products", "product-models"):
                raise TransportError(
                    "GET /api/rest/v1/products: 503 Service Unavailable, 6 attempts"
                )
            yield from pages

    target = tmp_path / "out.csv"
    target.write_text("the previous pull\n")
    with Failing(settings_of(filled)) as client:
        report = run_pull(PullOptions(entity="all"), target, client=client)
    assert report.exit_code == 3 and "503 Service Unavailable" in (report.aborted or "")
    assert target.read_text() == "the previous pull\n"
    assert not list(tmp_path.glob("*.part*"))
    assert "stopped" in report.to_text() and "was not written" in report.to_text()


def test_a_pim_refusing_the_login_writes_nothing(sandbox: Sandbox, tmp_path: Path) -> None:
    target = tmp_path / "out.csv"
    with pytest.raises(StartupError, match="No user found"):
        run_pull(PullOptions(), target, settings=settings_of(sandbox, password="wrong"))
    assert not target.exists()


@pytest.mark.parametrize(
    ("name", "message"),
    [("out.json", "cannot tell the format"), ("out.xlsx.gz", "cannot tell the format")],
    ids=["json", "xlsx-gz"],
)
def test_a_name_that_says_no_format_is_refused_first(name: str, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        output_format(Path(name))


class Recorder:
    def __init__(self) -> None:
        self.phases: list[tuple[str, int | None]] = []
        self.done: list[int] = []

    def phase(self, name: str, total: int | None = None) -> None:
        self.phases.append((name, total))

    def rows(self, done: int) -> None:
        self.done.append(done)


def test_progress_has_the_total_the_pim_counts(filled: Sandbox, tmp_path: Path) -> None:
    progress = Recorder()
    run_pull(PullOptions(entity="all"), tmp_path / "out.csv", settings=settings_of(filled),
             progress=progress)  # fmt: skip
    assert progress.phases[-1] == ("pulling", 9)
    assert progress.done[-1] == 9


class Rows:
    def __init__(self) -> None:
        self.header: list[str] = []
        self.rows: list[list[str]] = []

    def start(self, header: Any) -> None:
        self.header = list(header)

    def write(self, cells: Any) -> None:
        self.rows.append(list(cells))


def test_a_sink_gets_the_header_then_the_rows(filled: Sandbox, tmp_path: Path) -> None:
    sink = Rows()
    report = run_pull(PullOptions(attributes=("name",), locales=("en_US",)), sink=sink,
                      settings=settings_of(filled))  # fmt: skip
    assert sink.header[:7] == ["identifier", "family", "parent", "categories", "enabled",
                               "groups", "name~en_US"]  # fmt: skip
    assert len(sink.rows) == report.products == 9
    with pytest.raises(ConfigError, match="exactly one"):
        run_pull(PullOptions(), tmp_path / "x.csv", sink=sink, settings=settings_of(filled))


def test_two_workers_read_partitions_side_by_side(filled: Sandbox, tmp_path: Path) -> None:
    parts = ({"family": [{"operator": "IN", "value": ["clothing"]}]},
             {"family": [{"operator": "NOT IN", "value": ["clothing"]}]})  # fmt: skip
    report = run_pull(PullOptions(partitions=parts), tmp_path / "out.csv",
                      settings=settings_of(filled), workers=2)  # fmt: skip
    run_pull(PullOptions(), tmp_path / "one.csv", settings=settings_of(filled))
    assert report.products == 9
    assert sorted(rows_of(tmp_path / "out.csv")[1]) == sorted(rows_of(tmp_path / "one.csv")[1])


def test_media_files_by_code_or_downloaded_beside_the_feed(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    (tmp_path / "img").mkdir()
    (tmp_path / "img" / "tee.jpg").write_bytes(b"\xff\xd8\xff\xe0 a small jpeg")
    feed = tmp_path / "feed.csv"
    feed.write_text("sku,family,picture\nTS-1,clothing,img/tee.jpg\n")
    pushed = run_push(feed, ExportOptions(), settings=settings_of(sandbox),
                      targets=RunTargets(feedback=tmp_path / "fb.csv"))  # fmt: skip
    assert pushed.exit_code == 0, pushed.to_text()
    code = sandbox.state.product("TS-1")["values"]["picture"][0]["data"]  # type: ignore[index]

    by_code = tmp_path / "out" / "codes.csv"
    run_pull(PullOptions(attributes=("picture",)), by_code, settings=settings_of(sandbox))
    assert rows_of(by_code)[1][0][6] == code

    files = tmp_path / "out" / "files.csv"
    report = run_pull(PullOptions(attributes=("picture",), download_media=tmp_path / "out" / "media"),
                      files, settings=settings_of(sandbox))  # fmt: skip
    cell = rows_of(files)[1][0][6]
    # the code's folders and hash, then the file under the name it was uploaded with
    assert cell == f"media/{code.split('_', 1)[0]}/tee.jpg"
    assert report.media_downloaded == 1 and report.exit_code == 0
    assert (tmp_path / "out" / cell).read_bytes() == b"\xff\xd8\xff\xe0 a small jpeg"

    again = run_push(files, ExportOptions(), settings=settings_of(sandbox),
                     targets=RunTargets(feedback=tmp_path / "fb2.csv"))  # fmt: skip
    assert again.exit_code == 0
    # uploaded again: a new media-file code, the same content and name
    new = sandbox.state.product("TS-1")["values"]["picture"][0]["data"]  # type: ignore[index]
    stored = sandbox.state.media_file(new)
    assert new != code and stored is not None
    assert (stored.content, stored.original_filename) == (
        b"\xff\xd8\xff\xe0 a small jpeg",
        "tee.jpg",
    )
