"""What every route shares: the API prefix, whole-request errors, JSON answers, authentication."""

from __future__ import annotations

from typing import Any

import orjson
from flask import Response, request

from feed_export.sandbox.host import SandboxHost

API = "/api/rest/v1"
COLLECTION_TYPE = "application/vnd.akeneo.collection+json"


class ApiError(Exception):
    """A whole-request error answered as ``{"code": status, "message": message}``.

    ``extra`` adds keys to the body (``_links`` of a documented error).
    """

    def __init__(
        self,
        status: int,
        message: str,
        headers: dict[str, str] | None = None,
        extra: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.headers = headers or {}
        self.extra = extra or {}


def json_response(data: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    return Response(
        orjson.dumps(data), status=status, headers=headers, content_type="application/json"
    )


def authenticate(host: SandboxHost) -> None:
    """Raise the 401 Akeneo answers unless the request carries a valid bearer token."""
    header = request.headers.get("Authorization")
    if not header:
        raise ApiError(401, "Authentication is required")
    scheme, _, token = header.partition(" ")
    state = host.tokens.check(token.strip()) if scheme.lower() == "bearer" else "invalid"
    if state == "invalid":
        raise ApiError(401, "The access token provided is invalid.")
    if state == "expired":
        raise ApiError(401, "The access token provided has expired.")


def require_content_type(expected: str) -> None:
    """415 unless the request's Content-Type (parameters ignored) is ``expected``."""
    content_type = request.headers.get("Content-Type")
    if not content_type:
        raise ApiError(
            415,
            f'The "Content-Type" header is missing. "{expected}" has to be specified as value.',
        )
    base = content_type.split(";")[0].strip()  # HDR: trim(strtok($ct, ';'))
    if base != expected:
        raise ApiError(
            415, f'"{base}" in "Content-Type" header is not valid. Only "{expected}" is allowed.'
        )


def api_url(path: str) -> str:
    """The absolute URL of an API path on this host, e.g. ``api_url("/media-files/x")``."""
    return f"{request.host_url}{API[1:]}{path}"
