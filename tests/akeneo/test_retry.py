"""Tests for feed_export.akeneo.retry: the one policy's waits, attempts, log lines and errors."""

from __future__ import annotations

import logging
from collections.abc import Iterator

import pytest
from conftest import FakeTime

from feed_export.akeneo.retry import RetryPolicy
from feed_export.config import RetrySettings
from feed_export.errors import RetriableError, RetriesExhausted, TransportError


@pytest.fixture
def fake() -> FakeTime:
    return FakeTime(500.0)


def policy(fake: FakeTime, *jitter: float, **options: float) -> RetryPolicy:
    draws: Iterator[float] = iter(jitter or [0.5] * 20)
    return RetryPolicy(
        **options,  # type: ignore[arg-type]
        clock=fake.clock,
        sleep=fake.sleep,
        random=lambda: next(draws),
    )


class Script:
    """A call that fails with ``failures`` in turn, then returns ``"done"``."""

    def __init__(self, *failures: Exception) -> None:
        self.failures = list(failures)
        self.calls = 0

    def __call__(self) -> str:
        self.calls += 1
        if self.failures:
            raise self.failures.pop(0)
        return "done"


def test_defaults_are_the_settings_defaults() -> None:
    defaults = RetrySettings()
    assert RetryPolicy() == RetryPolicy.from_settings(defaults)
    assert RetryPolicy().timeout == (defaults.connect_timeout, defaults.request_timeout)


def test_from_settings_keeps_every_value_and_the_injected_functions(fake: FakeTime) -> None:
    settings = RetrySettings(
        request_timeout=42.0,
        connect_timeout=3.5,
        max_attempts=4,
        backoff_factor=0.25,
        max_retry_delay=9.0,
        request_deadline=77.0,
    )
    built = RetryPolicy.from_settings(settings, clock=fake.clock, sleep=fake.sleep, random=float)
    assert (
        built.max_attempts,
        built.backoff_factor,
        built.max_retry_delay,
        built.connect_timeout,
        built.request_timeout,
        built.request_deadline,
    ) == (4, 0.25, 9.0, 3.5, 42.0, 77.0)
    assert built.timeout == (3.5, 42.0)
    assert (built.clock, built.sleep, built.random) == (fake.clock, fake.sleep, float)


@pytest.mark.parametrize("attempts", [0, -1], ids=["zero", "negative"])
def test_at_least_one_attempt(attempts: int) -> None:
    with pytest.raises(ValueError, match=f"max_attempts must be at least 1, got {attempts}"):
        RetryPolicy(max_attempts=attempts)


# --- how long to wait ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("factor", "cap", "attempt", "jitter", "retry_after", "expected"),
    [
        (1.0, 60.0, 1, 0.5, None, 1.0),
        (1.0, 60.0, 2, 0.5, None, 2.0),
        (1.0, 60.0, 3, 0.5, None, 4.0),
        (1.0, 60.0, 4, 0.5, None, 8.0),
        (2.0, 60.0, 1, 0.0, None, 1.0),  # jitter's low end: half the backoff
        (2.0, 60.0, 2, 1.0, None, 6.0),  # jitter's high end: one and a half times
        (0.5, 60.0, 3, 0.25, None, 1.5),
        (1.0, 10.0, 4, 0.5, None, 8.0),  # under the cap
        (1.0, 10.0, 5, 0.5, None, 10.0),  # 16 s capped
        (1.0, 10.0, 4, 0.875, None, 10.0),  # 11 s capped
        (0.0, 60.0, 5, 0.9, None, 0.0),  # no backoff at all
        (1.0, 60.0, 1, 0.5, 7.0, 7.0),  # Retry-After honoured, no jitter
        (1.0, 60.0, 3, 0.0, 7.0, 7.0),  # ... whatever the attempt
        (1.0, 10.0, 1, 0.5, 120.0, 10.0),  # ... but capped
        (1.0, 10.0, 1, 0.5, 10.0, 10.0),  # ... exactly the cap
        (1.0, 60.0, 2, 0.5, 0.0, 0.0),  # Retry-After: 0 means now
    ],
    ids=[
        "first",
        "doubles",
        "doubles-again",
        "doubles-thrice",
        "jitter-low",
        "jitter-high",
        "small-factor",
        "below-cap",
        "capped",
        "jitter-over-cap",
        "factor-zero",
        "retry-after",
        "retry-after-late-attempt",
        "retry-after-capped",
        "retry-after-at-cap",
        "retry-after-zero",
    ],
)
def test_delay(
    fake: FakeTime,
    factor: float,
    cap: float,
    attempt: int,
    jitter: float,
    retry_after: float | None,
    expected: float,
) -> None:
    rule = policy(fake, jitter, backoff_factor=factor, max_retry_delay=cap)
    assert rule.delay(attempt, retry_after) == expected


def test_retry_after_draws_no_jitter(fake: FakeTime) -> None:
    draws: list[int] = []
    rule = RetryPolicy(random=lambda: draws.append(1) or 0.5)
    rule.delay(1, 3.0)
    assert draws == []
    rule.delay(1)
    assert draws == [1]


# --- running a call -----------------------------------------------------------------------


def test_a_call_that_works_is_called_once(fake: FakeTime) -> None:
    call = Script()
    assert policy(fake).run("GET /x", call) == "done"
    assert (call.calls, fake.sleeps) == (1, [])


def test_backoff_grows_with_each_attempt_and_jitter(fake: FakeTime) -> None:
    call = Script(*(RetriableError("503 Service Unavailable", 503) for _ in range(5)))
    retries: list[int] = []
    rule = policy(fake, 0.0, 1.0, 0.5, 0.25, 1.0, max_attempts=6, max_retry_delay=20.0)
    assert rule.run("GET /x", call, on_retry=lambda: retries.append(1)) == "done"
    # 1*0.5, 2*1.5, 4*1.0, 8*0.75, 16*1.5 -> capped at 20
    assert fake.sleeps == [0.5, 3.0, 4.0, 6.0, 20.0]
    assert call.calls == 6
    assert len(retries) == 5


def test_retry_after_is_honoured_and_capped(fake: FakeTime) -> None:
    call = Script(
        RetriableError("429 Too Many Requests", 429, retry_after=3.0),
        RetriableError("429 Too Many Requests", 429, retry_after=300.0),
        RetriableError("503 Service Unavailable", 503),
    )
    assert policy(fake, max_retry_delay=30.0).run("GET /x", call) == "done"
    assert fake.sleeps == [3.0, 30.0, 4.0]


def test_each_retry_is_logged_once(fake: FakeTime, caplog: pytest.LogCaptureFixture) -> None:
    call = Script(RetriableError("boom", 0), RetriableError("503 Service Unavailable", 503))
    with caplog.at_level(logging.DEBUG, logger="feed_export.akeneo.retry"):
        policy(fake, max_attempts=4).run("GET /api/rest/v1/locales", call)
    assert [(r.levelno, r.name, r.getMessage()) for r in caplog.records] == [
        (
            logging.WARNING,
            "feed_export.akeneo.retry",
            "GET /api/rest/v1/locales: boom; retrying in 1.0 s (attempt 2 of 4)",
        ),
        (
            logging.WARNING,
            "feed_export.akeneo.retry",
            "GET /api/rest/v1/locales: 503 Service Unavailable; retrying in 2.0 s (attempt 3 of 4)",
        ),
    ]


def test_the_retry_is_counted_before_its_wait(fake: FakeTime) -> None:
    seen: list[list[float]] = []
    call = Script(RetriableError("boom", 0))
    policy(fake).run("GET /x", call, on_retry=lambda: seen.append(list(fake.sleeps)))
    assert seen == [[]]
    assert fake.sleeps == [1.0]


def test_attempts_are_bounded(fake: FakeTime, caplog: pytest.LogCaptureFixture) -> None:
    failures = [RetriableError(f"503 Service Unavailable #{i}", 503) for i in range(5)]
    call = Script(*failures)
    with (
        caplog.at_level(logging.WARNING, logger="feed_export.akeneo.retry"),
        pytest.raises(
            RetriesExhausted,
            match=r"^GET /x: 503 Service Unavailable #2 after 3 attempts over 3 s$",
        ) as info,
    ):
        policy(fake, max_attempts=3).run("GET /x", call)
    error = info.value
    assert call.calls == 3
    assert fake.sleeps == [1.0, 2.0]
    assert len(caplog.records) == 2  # no "retrying" line after the last attempt
    assert error.last is failures[2]
    assert error.__cause__ is failures[2]
    assert (error.status, error.attempts, error.seconds) == (503, 3, 3.0)
    assert error.summary == "503 Service Unavailable #2 after 3 attempts over 3 s"
    assert error.retry_after is None
    assert isinstance(error, RetriableError)


def test_one_attempt_means_no_retry(fake: FakeTime) -> None:
    call = Script(RetriableError("no answer (read timeout)", 0, retry_after=5.0))
    with pytest.raises(
        RetriesExhausted, match=r"^download: no answer \(read timeout\) after 1 attempt over 0 s$"
    ) as info:
        policy(fake, max_attempts=1).run("download", call)
    assert (call.calls, fake.sleeps, info.value.status) == (1, [], 0)


def test_elapsed_time_is_measured_on_the_clock(fake: FakeTime) -> None:
    def slow() -> str:
        fake.now += 100.4  # each attempt takes 100.4 s
        raise RetriableError("504 Gateway Timeout", 504)

    with pytest.raises(RetriesExhausted, match=r"after 2 attempts over 202 s$") as info:
        policy(fake, max_attempts=2).run("PATCH /x", slow)
    assert info.value.seconds == pytest.approx(201.8)


def test_other_errors_go_straight_through(fake: FakeTime) -> None:
    call = Script(TransportError("GET /x: 404 Not Found"))
    with pytest.raises(TransportError, match=r"^GET /x: 404 Not Found$") as info:
        policy(fake).run("GET /x", call)
    assert not isinstance(info.value, RetriableError)
    assert (call.calls, fake.sleeps) == (1, [])


def test_a_later_success_after_failures_returns_its_value(fake: FakeTime) -> None:
    values = iter([RetriableError("x", 0), 41])

    def call() -> int:
        value = next(values)
        if isinstance(value, Exception):
            raise value
        return value + 1

    assert policy(fake, max_attempts=2).run("x", call) == 42
