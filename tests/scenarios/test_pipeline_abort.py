"""run_push through the planner: what an aborted or interrupted push says about each row,
and what the state store keeps when a product's rows finish out of feed order.

Fake clients stand in for the PIM where a test must control when a request begins or
fails; the sandbox, where associations must really be saved.
"""

from __future__ import annotations

import csv
import threading
from collections.abc import Iterator, Sequence
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import orjson
import pytest
from conftest import DEMO_CATALOG
from pydantic import SecretStr

from feed_export.akeneo.responses import LineResult, MediaUpload
from feed_export.catalog.structure import Catalog
from feed_export.config import ExportOptions, RetrySettings, Settings
from feed_export.errors import AuthenticationError
from feed_export.feed.reader import Row, open_feed
from feed_export.push import live
from feed_export.push.decode import RowDecoder
from feed_export.push.interrupt import Interrupt
from feed_export.push.run import RunTargets, run_push
from feed_export.push.tracking import Tracking
from feed_export.report.model import INTERRUPTED_NOT_SENT
from feed_export.sandbox import Sandbox, start_sandbox

GUARD = 10.0  # seconds: reached only when the behaviour under test is missing


@pytest.fixture(scope="module")
def catalog() -> Catalog:
    return Catalog.from_file(DEMO_CATALOG)


@pytest.fixture
def sandbox() -> Iterator[Sandbox]:
    with start_sandbox() as sb:
        yield sb


def _write(path: Path, header: Sequence[str], rows: Sequence[Sequence[str]]) -> Path:
    with path.open("w", newline="", encoding="utf-8") as out:
        writer = csv.writer(out)
        writer.writerow(header)
        writer.writerows(rows)
    return path


def _feedback(path: Path) -> dict[int, tuple[str, str]]:
    with open_feed(path) as fb:
        return {row.number: (row.cells[-2], row.cells[-1]) for row in fb.rows()}


class FakePim:
    """A PatchClient (and media client) whose calls follow a script, one per call."""

    base_url = "https://pim.example.com"

    def __init__(self, script: Sequence[Any] = ()) -> None:
        self.script = list(script)  # per call: "ok", or a callable run before answering
        self.calls: list[list[bytes]] = []
        self.uploads: list[str] = []
        self.on_upload: Any = None
        self.stats = SimpleNamespace(requests_sent=0, retries=0)
        self._lock = threading.Lock()

    def patch_collection(
        self, entity: str, lines: Sequence[bytes], *, create_missing_options: bool = False
    ) -> list[LineResult]:
        with self._lock:
            self.calls.append(list(lines))
            step = self.script[len(self.calls) - 1] if len(self.calls) <= len(self.script) else "ok"
            self.stats.requests_sent += 1
        if callable(step):
            step()
        return [LineResult(201, "") for _ in lines]

    def upload_media_file(
        self, target: Any, *, model: bool, filename: str, content: bytes, content_type: str
    ) -> MediaUpload:
        with self._lock:
            self.uploads.append(filename)
        if self.on_upload is not None:
            self.on_upload(filename)
        return MediaUpload(201, "", f"1/2/3/4/{len(self.uploads):040d}_{filename}")

    def media_file_exists(self, code: str) -> bool | None:
        return True


# --- aborts: what began is Unknown, what did not is Not sent ---------------------------


def test_an_abort_marks_unknown_only_the_requests_that_began(
    catalog: Catalog, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Batches of 2, one at a time. The 2nd request fails its login once the sender has
    taken the 3rd batch (read ahead, not sent): rows 4-5 are Unknown, rows 6 on Not sent."""
    feed = _write(tmp_path / "f.csv", ["sku", "name~en_US"], [[f"K{i}", "n"] for i in range(10)])
    third_taken = threading.Event()
    decode = live.decode_row

    def watching(decoder: RowDecoder, row: Row) -> Any:
        if row.number == 7:  # the last row of the 3rd batch: it is being taken
            third_taken.set()
        return decode(decoder, row)

    def revoked() -> None:
        assert third_taken.wait(GUARD), "the sender never read ahead"
        raise AuthenticationError("the PIM refused to log in: check AKENEO_PASSWORD")

    monkeypatch.setattr(live, "decode_row", watching)
    pim = FakePim(["ok", revoked])
    payload = tmp_path / "sent.ndjson"
    report = run_push(
        feed,
        ExportOptions(batch_size=2, concurrency=1),
        catalog=catalog,
        client=pim,  # type: ignore[arg-type]
        targets=RunTargets(payload_out=payload),
        tracking=Tracking(target="fake"),
    )

    assert report.exit_code == 3 and report.resumable
    assert report.aborted is not None and report.aborted.startswith("authentication failed")
    got = _feedback(tmp_path / "f.feedback.csv")
    assert got[2] == got[3] == ("201", "")
    unknown = "Unknown: run aborted before the PIM answered (authentication failed: "
    not_sent = "Not sent: run aborted (authentication failed: "
    assert [n for n, (s, m) in got.items() if m.startswith(unknown) and s == "0"] == [4, 5]
    assert [n for n, (s, m) in got.items() if m.startswith(not_sent) and s == "0"] == list(
        range(6, 12)
    )
    assert len(pim.calls) == 2  # the 3rd batch never went
    assert report.lines_sent == 4  # lines of the requests that began, not lines read
    sent = [orjson.loads(line)["identifier"] for line in payload.read_bytes().splitlines()]
    assert sent == ["K0", "K1", "K2", "K3"]


def test_an_interrupt_while_files_go_marks_saved_rows_with_files_left(
    catalog: Catalog, tmp_path: Path
) -> None:
    """Both lines saved; the interrupt comes once row 2 is done, while row 3's picture is
    uploading: row 3 is saved but its picture unknown, and --resume sends it again."""
    for name in ("a.jpg", "b.jpg"):
        (tmp_path / name).write_bytes(b"\xff\xd8\xff\xe0 " + name.encode())
    feed = _write(tmp_path / "f.csv", ["sku", "picture"], [["A", "a.jpg"], ["B", "b.jpg"]])
    interrupt = Interrupt(drain_timeout=GUARD)
    stopped = threading.Event()

    def progress(done: int) -> None:
        interrupt.request()
        stopped.set()

    def upload(filename: str) -> None:
        if filename == "b.jpg":  # started before the interrupt, answered after it
            assert stopped.wait(GUARD), "row 2 was never recorded"

    pim = FakePim()
    pim.on_upload = upload
    options = ExportOptions(batch_size=2, concurrency=2)  # one file at a time
    report = run_push(
        feed,
        options,
        catalog=catalog,
        client=pim,  # type: ignore[arg-type]
        tracking=Tracking(target="fake"),
        interrupt=interrupt,
        progress=progress,
    )

    assert report.aborted == "interrupted" and report.exit_code == 3
    assert pim.uploads == ["a.jpg", "b.jpg"]
    got = _feedback(tmp_path / "f.feedback.csv")
    assert got[2] == ("201", "")
    assert got[3] == (
        "0",
        "Unknown: saved (201), but the run stopped before its files and associations were "
        "sent (interrupted)",
    )

    again = FakePim()
    report = run_push(
        feed,
        options,
        catalog=catalog,
        client=again,  # type: ignore[arg-type]
        tracking=Tracking(target="fake", resume=True),
    )
    assert report.exit_code == 0 and report.resumed == 1
    # only row 3 goes again: its line, then its picture (uploaded, or set from the media
    # cache, which remembers the upload that finished after the interrupt)
    assert again.calls[0] == [b'{"identifier":"B"}']
    assert all(b'"identifier":"B"' in line for call in again.calls for line in call)
    assert len(again.calls) + len(again.uploads) == 2
    assert _feedback(tmp_path / "f.feedback.csv") == {2: ("201", ""), 3: ("201", "")}


def test_an_interrupt_before_the_first_request_sends_nothing(
    catalog: Catalog, tmp_path: Path
) -> None:
    feed = _write(tmp_path / "f.csv", ["sku"], [["A"], ["B"], ["C"]])
    interrupt = Interrupt(drain_timeout=GUARD)
    interrupt.request()
    pim = FakePim()
    payload = tmp_path / "sent.ndjson"
    report = run_push(
        feed,
        ExportOptions(batch_size=1),
        catalog=catalog,
        client=pim,  # type: ignore[arg-type]
        targets=RunTargets(payload_out=payload),
        tracking=Tracking(target="fake"),
        interrupt=interrupt,
    )
    assert report.aborted == "interrupted" and report.lines_sent == 0
    assert pim.calls == [] and payload.read_bytes() == b""
    assert set(_feedback(tmp_path / "f.feedback.csv").values()) == {("0", INTERRUPTED_NOT_SENT)}


# --- the state store when rows finish out of feed order ---------------------------------


def _settings(sb: Sandbox) -> Settings:
    return Settings(
        base_url=sb.url,
        client_id=sb.client_id,
        client_secret=SecretStr(sb.client_secret),
        username=sb.username,
        password=SecretStr(sb.password),
        retry=RetrySettings(max_attempts=2, backoff_factor=0),
    )


ASSOC_HEADER = ["sku", "family", "name~en_US", "associations~X_SELL~products"]


def test_rows_with_associations_in_a_second_pass_are_unchanged_next_time(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    """Each row's associations go in a second request: one row, two batches, one answer.
    The state must still end accepted, not pending, or --only-changed sends them again."""
    rows = [["A", "accessories", "a", "B"], ["B", "accessories", "b", "A"], ["C", "", "c", ""]]
    feed = _write(tmp_path / "f.csv", ASSOC_HEADER, rows)
    options = ExportOptions(batch_size=1, concurrency=2)
    first = run_push(feed, options, settings=_settings(sandbox), tracking=Tracking(mode="full"))
    assert first.exit_code == 0
    assert first.lines_sent == 5  # 3 lines, then the associations of A and B
    a = sandbox.state.product("A")
    assert a is not None and a["associations"]["X_SELL"]["products"] == ["B"]

    before = sandbox.stats.patch_lines
    second = run_push(
        feed, options, settings=_settings(sandbox), tracking=Tracking(mode="only-changed")
    )
    assert second.exit_code == 0 and second.lines_sent == 0
    assert sandbox.stats.patch_lines == before
    assert {status for status, _ in _feedback(tmp_path / "f.feedback.csv").values()} == {"304"}


def test_a_later_row_of_a_product_finishing_first_is_recorded_after_the_earlier_one(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    """Row 2 (K1) waits for its associations (K2 comes last); row 3 (K1 again) is saved
    meanwhile. The state must end with row 3's payload, the one the PIM holds last."""
    feed = _write(
        tmp_path / "f.csv",
        ASSOC_HEADER,
        [
            ["K1", "accessories", "first", "K2"],
            ["K1", "accessories", "second", ""],
            ["K2", "", "x", ""],
        ],
    )
    options = ExportOptions(batch_size=1, concurrency=1)
    first = run_push(feed, options, settings=_settings(sandbox), tracking=Tracking(mode="full"))
    assert first.exit_code == 0
    k1 = sandbox.state.product("K1")
    assert k1 is not None and k1["values"]["name"][0]["data"] == "second"
    assert k1["associations"]["X_SELL"]["products"] == ["K2"]

    # the same rows as the PIM holds them last: nothing to send
    later = _write(
        tmp_path / "f.csv",
        ASSOC_HEADER,
        [["K1", "accessories", "second", ""], ["K2", "", "x", ""]],
    )
    before = sandbox.stats.patch_lines
    second = run_push(
        later, options, settings=_settings(sandbox), tracking=Tracking(mode="only-changed")
    )
    assert second.exit_code == 0
    assert [s for s, _ in _feedback(tmp_path / "f.feedback.csv").values()] == ["304", "304"]
    assert sandbox.stats.patch_lines == before
