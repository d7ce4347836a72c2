"""Fault soak: a few thousand rows through a sandbox that fails on purpose, against a clean run.

Each case pushes the same generated feed (repeated identifiers, identifiers repeated in
another case, rows the PIM rejects, line errors found before sending, blank rows) into a
sandbox with every fault switched on at once, and compares the outcome with a fault-free
push of the same feed into a fresh sandbox: one feedback row per data row in feed order,
the same verdict for every row, every accepted row in the PIM with the values sent, and the
same final PIM state. The sandbox clock is real here (token expiry needs it); retry waits
are capped at 50 ms so the whole module stays well under a minute.
"""

from __future__ import annotations

import csv
import random
import threading
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

import orjson
import pytest
import responses

from feed_export.akeneo.client import AkeneoClient
from feed_export.akeneo.responses import LineResult
from feed_export.config import ExportOptions, RetrySettings, Settings
from feed_export.feed.reader import open_feed
from feed_export.push.batches import Batch
from feed_export.push.decode import ProductLine
from feed_export.push.run import RunTargets, run_push
from feed_export.push.sender import send_batches
from feed_export.report.model import RunReport
from feed_export.sandbox import Faults, Sandbox, start_sandbox

ROWS = 4000
BATCH_SIZE = 20  # many small requests: more draws from the fault generator per row
HEADER = [
    "sku",
    "family",
    "categories",
    "name~en_US",
    "description~en_US~ecommerce",
    "stock_quantity",
    "color",
    "brand",
    "material",
    "price@currency",
    "weight@unit",
    "size_chart",
    "picture",
]
ACCEPTED = frozenset({"201", "204"})


# --- the feed -------------------------------------------------------------------------


def _feed_rows(count: int, seed: int) -> Iterator[list[str]]:
    """Rows for the demo catalog: ~70 % distinct identifiers, some in another case."""
    rng = random.Random(seed)
    distinct = int(count * 0.7)
    for i in range(count):
        if i and i % 997 == 0:
            yield [""] * len(HEADER)  # a blank row: skipped, still one feedback row
            continue
        sku = f"P{rng.randrange(distinct):05d}"
        if rng.random() < 0.03:
            sku = sku.lower()  # the same product to the PIM (identifiers match by case)
        brand = rng.choice(["acme", "northwind", "voltix", "urban_threads"])
        categories = rng.choice(["men", "women<###>sale", "audio", "men<###>men_tshirts"])
        quantity = str(rng.randrange(1000))
        weight = f"{rng.randrange(1, 1000)} GRAM"
        size_chart = picture = ""
        draw = rng.random()
        if draw < 0.005:
            brand = "tommh"  # not an option of brand: refused from the catalog, never sent
        elif draw < 0.01:
            categories = "outlet"  # no such category: refused from the catalog, never sent
        elif draw < 0.02:
            # what only the PIM knows: the table's columns (a "Validation failed." 422)...
            size_chart = '[{"size":"m","no_such_column":"1"}]'
        elif draw < 0.025:
            # ...and its media files (a documented 422)
            picture = "0/0/0/0/" + "0" * 40 + "_missing.jpg"
        elif draw < 0.035:
            quantity = "12.5"  # a line error: never sent
        elif draw < 0.04:
            weight = "2000 GRAM"  # a line error: over the attribute's maximum
        yield [
            sku,
            rng.choice(["clothing", "electronics", "accessories"]),
            categories,
            f"Name {i}",
            f"Description {i} " + rng.choice(["soft", "durable", "wireless"]),
            quantity,
            rng.choice(["black", "white", "red", "blue"]),
            brand,
            "<###>".join(rng.sample(["cotton", "wool", "plastic", "leather"], rng.randint(1, 3))),
            f"{rng.randrange(100, 99999) / 100:.2f} EUR",
            weight,
            size_chart,
            picture,
        ]


def _write_feed(path: Path, count: int = ROWS, seed: int = 20240) -> list[list[str]]:
    rows = list(_feed_rows(count, seed))
    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(HEADER)
        writer.writerows(rows)
    return rows


# --- running a push -------------------------------------------------------------------


@dataclass
class Run:
    """What one push left behind: the report, the feedback, the lines sent, the PIM."""

    report: RunReport
    feedback: list[tuple[list[str], str, str]]  # (feed cells, status, message) per data row
    sent: list[dict[str, Any]]  # the payload lines, in feed order
    state: dict[str, dict[str, Any]]  # every product, normalised, by folded identifier
    client: dict[str, int]  # the client's counters (logins, refreshes, retries...)


def _settings(sb: Sandbox, attempts: int = 15) -> Settings:
    return Settings(
        base_url=sb.url,
        client_id=sb.client_id,
        client_secret=sb.client_secret,  # type: ignore[arg-type]
        username=sb.username,
        password=sb.password,  # type: ignore[arg-type]
        retry=RetrySettings(
            max_attempts=attempts, backoff_factor=0.01, max_retry_delay=0.05, request_timeout=20
        ),
    )


def _push(
    sb: Sandbox,
    feed: Path,
    out: Path,
    *,
    concurrency: int = 4,
    progress: Callable[[int], None] | None = None,
) -> Run:
    out.mkdir(parents=True, exist_ok=True)
    targets = RunTargets(feedback=out / "feedback.csv", payload_out=out / "sent.ndjson")
    client = AkeneoClient(_settings(sb))
    try:
        report = run_push(
            feed,
            ExportOptions(batch_size=BATCH_SIZE, concurrency=concurrency),
            client=client,
            targets=targets,
            progress=progress,
        )
    finally:
        client.close()
    assert targets.feedback is not None and targets.payload_out is not None
    with open_feed(targets.feedback) as fb:
        feedback = [(list(r.cells[:-2]), r.cells[-2], r.cells[-1]) for r in fb.rows()]
    sent = [orjson.loads(line) for line in targets.payload_out.read_bytes().splitlines()]
    state = {str(p["identifier"]).casefold(): _normalised(p) for p in sb.state.products()}
    return Run(report, feedback, sent, state, client.stats.as_dict())


def _normalised(product: dict[str, Any]) -> dict[str, Any]:
    """The GET shape without what differs between two PIMs holding the same data."""
    shown = {k: v for k, v in product.items() if k not in {"uuid", "created", "updated"}}
    shown["categories"] = sorted(shown["categories"])
    shown["values"] = {
        code: sorted(entries, key=lambda e: (str(e["locale"]), str(e["scope"])))
        for code, entries in sorted(product["values"].items())
    }
    return shown


# --- comparing sent and stored values --------------------------------------------------


def _canonical(data: Any) -> Any:
    """A value's data up to the PIM's normalisation on read (padded decimals, sorted codes)."""
    if isinstance(data, str):
        try:
            return Decimal(data)
        except InvalidOperation:
            return data
    if isinstance(data, list):
        items = [_canonical(x) for x in data]
        return sorted(items, key=repr)
    if isinstance(data, dict):
        return {k: (str(v).upper() if k == "unit" else _canonical(v)) for k, v in data.items()}
    return data


def _expected_products(run: Run) -> dict[str, dict[str, Any]]:
    """Per folded identifier, the values and fields of its accepted lines, later ones winning."""
    lines = iter(run.sent)
    expected: dict[str, dict[str, Any]] = {}
    for cells, status, message in run.feedback:
        if status == "" or message.startswith("Not sent:"):
            continue  # blank row or line error: nothing was sent for it
        body = next(lines)
        assert str(body["identifier"]) == cells[0], "payload lines out of step with the feed"
        if status not in ACCEPTED:
            continue
        product = expected.setdefault(cells[0].casefold(), {})
        product["family"] = body["family"]
        product["categories"] = sorted(body["categories"])
        for code, entries in body["values"].items():
            for entry in entries:
                product[f"{code}|{entry['locale']}|{entry['scope']}"] = _canonical(entry["data"])
    assert next(lines, None) is None, "more payload lines than rows sent"
    return expected


def _assert_accepted_rows_stored(run: Run, skip: frozenset[str] = frozenset()) -> None:
    """Every row reported 201/204 is in the PIM with the values sent (the last one wins)."""
    expected = _expected_products(run)
    assert expected, "no row was accepted"
    for key, want in expected.items():
        if key in skip:
            continue
        stored = run.state.get(key)
        assert stored is not None, f"{key} reported accepted but is not in the PIM"
        assert stored["family"] == want["family"], key
        assert sorted(stored["categories"]) == want["categories"], key
        have = {
            f"{code}|{e['locale']}|{e['scope']}": _canonical(e["data"])
            for code, entries in stored["values"].items()
            for e in entries
        }
        for what, data in want.items():
            if "|" in what:
                assert have.get(what) == data, (key, what, data, have.get(what))


def _verdict(status: str) -> str:
    """201 and 204 are the same verdict: a line applied but answered only on a resend is 204."""
    return "accepted" if status in ACCEPTED else status


# --- the fault-free reference ----------------------------------------------------------


@pytest.fixture(scope="module")
def feed(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[list[str]]]:
    path = tmp_path_factory.mktemp("soak") / "feed.csv"
    return path, _write_feed(path)


@pytest.fixture(scope="module")
def reference(feed: tuple[Path, list[list[str]]], tmp_path_factory: pytest.TempPathFactory) -> Run:
    with start_sandbox() as sb:
        run = _push(sb, feed[0], tmp_path_factory.mktemp("reference"))
    assert run.report.retries == 0
    return run


def test_reference_run_covers_every_kind_of_row(
    feed: tuple[Path, list[list[str]]], reference: Run
) -> None:
    """The feed holds what the soak must survive, and the clean run handles it right."""
    rows = feed[1]
    statuses = [status for _, status, _ in reference.feedback]
    messages = [message for _, _, message in reference.feedback]
    assert len(reference.feedback) == len(rows)
    assert {"201", "204", "422", ""} <= set(statuses)
    # refused by the PIM
    assert any("no_such_column" in m and m.startswith("Validation failed.") for m in messages)
    assert any("The media does not exist" in m for m in messages)
    # refused before sending, from the catalog (issue 11)
    assert any('brand: option "tommh" does not exist' in m for m in messages)
    assert any(m.startswith('Not sent: categories: unknown category "outlet"') for m in messages)
    assert any(m.startswith("Not sent: stock_quantity") for m in messages)
    assert any(m.startswith("Not sent: weight@unit") for m in messages)
    identifiers = [r[0] for r in rows if r[0]]
    assert len({i.casefold() for i in identifiers}) < len(identifiers)  # repeats
    assert len(set(identifiers)) > len({i.casefold() for i in identifiers})  # case variants
    assert reference.report.exit_code == 1
    _assert_accepted_rows_stored(reference)


# --- the soak ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Case:
    seed: int
    concurrency: int = 4
    drop_after_processing: bool = False
    targets: frozenset[str] = frozenset({"get", "patch"})
    rate_html_tail: float = 0.0
    purge_tokens: bool = False  # forget every token once, mid-run (a token purge)


CASES = [
    Case(seed=1),
    # more batches in flight than the PIM allows per token: its 429s are part of the soak
    Case(seed=2, concurrency=6, drop_after_processing=True),
    Case(
        seed=3, targets=frozenset({"token", "get", "patch"}), rate_html_tail=0.01, purge_tokens=True
    ),
]


def _faults(case: Case, phase: int) -> Faults:
    """The soak's faults; odd phases send 429 without Retry-After, even ones with it."""
    return Faults(
        seed=case.seed * 1000 + phase,
        latency=0.005,
        latency_jitter=0.01,
        concurrency_per_token=4,
        rate_5xx=0.10,
        statuses_5xx=(500, 502, 503),
        rate_429=0.05,
        retry_after=None if phase % 2 else 1,
        rate_drop=0.02,
        drop_after_processing=case.drop_after_processing,
        rate_cut=0.02,
        rate_html_tail=case.rate_html_tail,
        targets=case.targets,
    )


class _MidRun:
    """Progress callback that changes the sandbox while the push runs.

    Every ``every`` lines answered it switches to the next fault phase (alternating 429s
    with and without Retry-After); once past ``purge_at`` it forgets every token.
    """

    def __init__(self, sb: Sandbox, case: Case, every: int = 400, purge_at: int = 1500) -> None:
        self.sb, self.case, self.every, self.purge_at = sb, case, every, purge_at
        self.phase = 0
        self.purged = False

    def __call__(self, done: int) -> None:
        phase = done // self.every
        if phase != self.phase:
            self.phase = phase
            self.sb.faults = _faults(self.case, phase)
        if self.case.purge_tokens and not self.purged and done >= self.purge_at:
            self.purged = True
            self.sb.tokens.revoke_all()


@pytest.mark.parametrize("case", CASES, ids=[f"seed{c.seed}" for c in CASES])
def test_soak_under_faults_matches_the_clean_run(
    case: Case, feed: tuple[Path, list[list[str]]], reference: Run, tmp_path: Path
) -> None:
    with start_sandbox(faults=_faults(case, 0), token_lifetime=1) as sb:
        midrun = _MidRun(sb, case)
        run = _push(sb, feed[0], tmp_path, concurrency=case.concurrency, progress=midrun)
        stats = sb.stats

    # every data row has exactly one feedback row, in feed order, with its cells echoed
    assert [cells for cells, _, _ in run.feedback] == [
        row if any(row) else [""] * len(HEADER) for row in feed[1]
    ]
    # the same verdict as the clean run for every row, and the same message when refused
    for n, ((_, status, message), (_, ref_status, ref_message)) in enumerate(
        zip(run.feedback, reference.feedback, strict=True), start=2
    ):
        assert _verdict(status) == _verdict(ref_status), (n, status, message, ref_status)
        if status not in ACCEPTED:
            assert message == ref_message, n
            assert message.strip(), f"row {n} failed without saying why"
    # every accepted row is in the PIM with the values sent, and the PIM ends as the clean run
    _assert_accepted_rows_stored(run)
    assert run.state.keys() == reference.state.keys()
    for key, product in reference.state.items():
        assert run.state[key] == product, key
    assert run.report.exit_code == 1  # some rows rejected, none lost
    assert run.report.aborted is None

    # the faults did happen
    assert stats.tokens_issued > 1, "the token never expired during the run"
    assert midrun.phase >= 2, "the 429s never switched between with and without Retry-After"
    assert stats.faults["5xx"] > 0 and stats.faults["429"] > 0, stats.faults
    assert stats.faults["drop"] + stats.faults["cut"] > 0, stats.faults
    # every fault costs one wait before a retry, except a cut or an HTML tail that came
    # after the last line (every line was answered)
    spared = stats.faults["html_tail"] + stats.faults["cut"]
    assert run.report.retries >= sum(stats.faults.values()) - spared
    if case.concurrency > 4:
        assert stats.faults["concurrency"] > 0, stats.faults
    assert run.client["auth_refreshes"] >= 1
    if case.purge_tokens:
        # the purged refresh token was refused, so the client logged in again
        assert midrun.purged and run.client["auth_logins"] >= 2, run.client


def test_credentials_revoked_mid_run_abort_and_mark_every_row(
    feed: tuple[Path, list[list[str]]], reference: Run, tmp_path: Path
) -> None:
    """The admin changes the API user's password and purges tokens while the push runs."""
    revoke_at = 1500
    with start_sandbox(faults=_faults(Case(seed=4), 0), token_lifetime=1) as sb:
        original = sb.password

        def revoke(done: int) -> None:
            if done >= revoke_at and sb.password == original:
                sb.password = "changed-by-the-admin"
                sb.tokens.revoke_all()

        run = _push(sb, feed[0], tmp_path, progress=revoke)

    assert run.report.exit_code == 3
    assert run.report.aborted is not None
    assert "No user found for the given username and password" in run.report.aborted
    # still one feedback row per data row, in feed order
    assert [cells for cells, _, _ in run.feedback] == [
        row if any(row) else [""] * len(HEADER) for row in feed[1]
    ]
    unknown = "Unknown: run aborted before the PIM answered (authentication failed: "
    not_sent = "Not sent: run aborted (authentication failed: "
    kinds: list[str] = []
    for n, ((cells, status, message), (_, ref_status, ref_message)) in enumerate(
        zip(run.feedback, reference.feedback, strict=True), start=2
    ):
        if message.startswith((unknown, not_sent)):
            assert status == "0", n
            kinds.append("unknown" if message.startswith(unknown) else "not sent")
        elif status == "":
            assert not any(cells), n  # only blank rows have no status
            kinds.append("blank")
        else:  # answered before the abort: the clean run's verdict
            assert _verdict(status) == _verdict(ref_status), (n, status, message, ref_status)
            if status not in ACCEPTED:
                assert message == ref_message, n
            # a line error is decided here, without the PIM: also after the abort
            kinds.append("line error" if message.startswith("Not sent: ") else "answered")
    first_not_sent = kinds.index("not sent")
    # nothing answered by the PIM after it: the batch the sender had taken but not sent
    # yet is "not sent", like the rows behind it
    assert set(kinds[first_not_sent:]) <= {"not sent", "blank", "line error"}
    assert "unknown" in kinds  # the batches in flight when the credentials went away
    assert kinds.count("answered") >= revoke_at
    # the rows reported accepted are in the PIM, except products that also have a row
    # in an unknown state (it may or may not have been applied after them)
    maybe = frozenset(
        cells[0].casefold()
        for (cells, _, _), kind in zip(run.feedback, kinds, strict=True)
        if kind == "unknown"
    )
    _assert_accepted_rows_stored(run, skip=maybe)
    assert "run aborted: authentication failed" in run.report.to_text()


# --- regressions found by the soak and the benchmarks (client, sender) ------------------

GUARD = 10.0  # seconds: reached only when the behaviour under test is missing


def _line(row: int, key: str) -> ProductLine:
    return ProductLine(row, key, orjson.dumps({"identifier": key}))


class _GatedClient:
    """A fake PatchClient whose calls wait until ``release(calls, pulled)`` says so."""

    def __init__(self, release: Callable[[list[int], list[int]], bool], pulled: list[int]):
        self._release = release
        self._pulled = pulled
        self.cond = threading.Condition()
        self.entered: list[int] = []  # first row of each call, in arrival order

    def patch_collection(
        self, entity: str, lines: Sequence[bytes], *, create_missing_options: bool = False
    ) -> list[LineResult]:
        with self.cond:
            self.entered.append(len(self.entered) + 1)
            self.cond.notify_all()
            released = self.cond.wait_for(
                lambda: self._release(self.entered, self._pulled), timeout=GUARD
            )
        assert released, f"call {len(self.entered)} never released (pulled {self._pulled})"
        return [LineResult(201, "")] * len(lines)


def test_sender_reads_the_next_batch_while_every_slot_is_busy() -> None:
    """Decoding the next batch overlaps the requests in flight (it cost ~8 ms per request)."""
    pulled: list[int] = []
    client: _GatedClient

    def source() -> Iterator[Batch]:
        for seq in range(1, 5):
            with client.cond:
                pulled.append(seq)
                client.cond.notify_all()
            yield Batch(seq, "products", (_line(seq + 1, f"k{seq}"),))

    # the two first calls are held until batch 3 has been read: only a read-ahead does it
    client = _GatedClient(lambda entered, pulled: len(pulled) >= 3, pulled)
    out = list(send_batches(client, source(), concurrency=2))
    assert sorted(b.seq for b, _ in out) == [1, 2, 3, 4]
    assert all(r == [LineResult(201, "")] for _, r in out)  # no call gave up waiting
    assert pulled == [1, 2, 3, 4]


def test_sender_refills_a_freed_slot_before_handing_results_over() -> None:
    """The next request leaves before the caller writes the finished batch's feedback."""
    pulled: list[int] = []
    client = _GatedClient(lambda entered, pulled: True, pulled)
    batches = [Batch(seq, "products", (_line(seq + 1, f"k{seq}"),)) for seq in range(1, 4)]
    seen: list[int] = []
    for batch, _ in send_batches(client, batches, concurrency=1):
        with client.cond:
            # batch n is handed over only once batch n + 1 went out (or there is none)
            want = min(batch.seq + 1, len(batches))

            def sent(want: int = want) -> bool:
                return len(client.entered) >= want

            assert client.cond.wait_for(sent, timeout=GUARD)
        seen.append(batch.seq)
    assert seen == [1, 2, 3]


def test_catalog_lists_are_read_side_by_side() -> None:
    """Five catalog lists cost ~2 round trips instead of 5, never more than 4 at once."""
    base = "https://pim.test"
    api = f"{base}/api/rest/v1"
    together = threading.Barrier(4, timeout=GUARD)
    lock = threading.Lock()
    current, most = [0], [0]

    def page(items: list[dict[str, Any]]) -> Callable[[Any], tuple[int, dict[str, str], str]]:
        def answer(request: Any) -> tuple[int, dict[str, str], str]:
            with lock:
                current[0] += 1
                most[0] = max(most[0], current[0])
            try:
                if "measurement-families" not in request.url:
                    together.wait()  # four lists in flight at the same time
                body: Any = (
                    items
                    if "measurement-families" in request.url
                    else {"_links": {}, "_embedded": {"items": items}}
                )
                return 200, {}, orjson.dumps(body).decode()
            finally:
                with lock:
                    current[0] -= 1

        return answer

    settings = Settings(
        base_url=base,
        client_id="cid",
        client_secret="secret",  # type: ignore[arg-type]
        username="u",
        password="p",  # type: ignore[arg-type]
    )
    with responses.RequestsMock() as rsps:
        rsps.post(
            f"{base}/api/oauth/v1/token",
            json={"access_token": "t", "expires_in": 3600, "refresh_token": "r"},
        )
        rsps.add_callback(responses.GET, f"{api}/attributes", page([{"code": "sku"}]))
        rsps.add_callback(responses.GET, f"{api}/channels", page([{"code": "ecommerce"}]))
        rsps.add_callback(responses.GET, f"{api}/locales", page([{"code": "en_US"}]))
        rsps.add_callback(responses.GET, f"{api}/currencies", page([{"code": "EUR"}]))
        rsps.add_callback(responses.GET, f"{api}/measurement-families", page([{"code": "AREA"}]))
        client = AkeneoClient(settings)
        try:
            catalog = client.fetch_catalog(["sku"])
        finally:
            client.close()
        token_calls = [c for c in rsps.calls if str(c.request.url).endswith("/token")]
    assert len(token_calls) == 1  # one login shared by the readers
    assert most[0] == 4
    assert catalog == {
        "attributes": [{"code": "sku"}],
        "channels": [{"code": "ecommerce"}],
        "locales": [{"code": "en_US"}],
        "currencies": [{"code": "EUR"}],
        "measurement_families": [{"code": "AREA"}],
    }
