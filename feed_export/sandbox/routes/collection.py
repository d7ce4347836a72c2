"""The collection PATCH of products and product models (§2): one streamed result per line.

The body is split as PHP's stream_get_line reads it, counted (413 beyond 100 lines,
before anything is written), then each line is checked, applied and answered in turn,
so a client sees a line's result as soon as that line is saved.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import orjson
from flask import Response, request

from feed_export.sandbox.faults import PLAN_KEY, FaultPlan, drop_connection, html_error_page
from feed_export.sandbox.host import SandboxHost
from feed_export.sandbox.routes.common import (
    COLLECTION_TYPE,
    ApiError,
    authenticate,
    require_content_type,
)
from feed_export.sandbox.updater import ENTITY_KEYS, Entity

MAX_LINES = 100  # api_input_max_resources_number
MAX_LINE_BYTES = 1_000_000  # api_input_buffer_size
_PHP_TRIM = " \t\n\r\0\x0b"


def collection_patch(host: SandboxHost, entity: Entity) -> Response:
    """Answer a collection PATCH on ``entity`` as a stream of per-line results."""
    authenticate(host)
    require_content_type(COLLECTION_TYPE)
    lines = split_lines(request.get_data(cache=False))
    if len(lines) > MAX_LINES:  # before anything is written (checkLineNumberInInput)
        raise ApiError(413, f"Too many resources to process, {MAX_LINES} is the maximum allowed.")
    host.stats.count_patch(len(lines))
    plan = request.environ.get(PLAN_KEY) or FaultPlan()
    create_missing = "create_missing_options" in request.args
    body = _stream_results(host, entity, lines, plan, create_missing, request.environ)
    return Response(body, status=200, content_type=COLLECTION_TYPE)


def split_lines(body: bytes) -> list[bytes]:
    """The body's lines as PHP's stream_get_line(PHP_EOL) reads them.

    Every ``\\n``-separated segment counts, empty ones too, except after a final ``\\n``
    (stream_get_line returns false at the end of the stream); an empty body has no line.
    """
    if not body:
        return []
    lines = body.split(b"\n")
    if lines[-1] == b"":
        lines.pop()
    return lines


def check_line(raw: bytes, number: int, key: str) -> tuple[dict[str, Any] | None, Any]:
    """The stream layer's own checks (§2.5): (error line, None) or (None, decoded object)."""
    if len(raw) > MAX_LINE_BYTES:
        return {"line": number, "status_code": 413, "message": "Line is too long."}, None
    try:
        data = orjson.loads(raw)
    except orjson.JSONDecodeError:
        data = None
    if data is None:
        return {
            "line": number,
            "status_code": 400,
            "message": "Invalid json message received",
        }, None
    value = data.get(key) if isinstance(data, dict) else None
    if value is not None and not isinstance(value, str):
        return {
            "line": number,
            "status_code": 422,
            "message": f"{key} must be of type string.",
        }, None
    if value is None or not value.strip(_PHP_TRIM):
        return {
            "line": number,
            "status_code": 422,
            "message": f"{key[0].upper()}{key[1:]} is missing.",
        }, None
    return None, data


def _stream_results(
    host: SandboxHost,
    entity: Entity,
    lines: list[bytes],
    plan: FaultPlan,
    create_missing: bool,
    environ: dict[str, Any],
) -> Iterator[bytes]:
    key = ENTITY_KEYS[entity]
    count = len(lines)
    if plan.kind in {"cut", "html_tail"}:
        count = plan.cut_line(len(lines))  # lines after the cut are never applied
    answers: Iterator[dict[str, Any]] = (
        process_line(host, entity, key, raw, number, plan, create_missing)
        for number, raw in enumerate(lines[:count], start=1)
    )
    if plan.answers == "extra" and count:
        # every line is applied first: a copy of the last answer goes out before line 1's
        results = list(answers)
        answers = iter([{**results[-1], "line": 1}, *results])
    for position, result in enumerate(answers):
        if plan.answers == "shift":
            result["line"] += 1
        yield (b"\n" if position else b"") + orjson.dumps(result)
    if plan.kind == "cut":
        drop_connection(environ)  # the chunked stream ends without its last chunk
    elif plan.kind == "html_tail":
        # a fatal error while handling the next line: Symfony's page, glued to the output
        yield html_error_page(500).encode()


def process_line(
    host: SandboxHost,
    entity: Entity,
    key: str,
    raw: bytes,
    number: int,
    plan: FaultPlan,
    create_missing: bool,
) -> dict[str, Any]:
    """One input line's result object, after applying the line when it is valid."""
    error, data = check_line(raw, number, key)
    if error is not None:
        return error
    value = data[key]
    with host.store.lock:
        outcome = host.updater.upsert(entity, value, data, create_missing_options=create_missing)
    result: dict[str, Any] = {"line": number, key: value}
    if outcome.body is None:
        result["status_code"] = outcome.status
        return result
    body = dict(outcome.body)
    code = body.pop("code")
    if plan.code_instead_of_status_code and entity == "products-uuid":
        result["code"] = code
    else:
        result["status_code"] = code
    result.update(body)
    return result
