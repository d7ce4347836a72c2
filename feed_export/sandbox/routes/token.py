"""``POST /api/oauth/v1/token``: password and refresh grants (akeneo-api.md §1)."""

from __future__ import annotations

import base64
import binascii
from typing import Any

import orjson
from flask import Blueprint, Response, request

from feed_export.sandbox.host import SandboxHost
from feed_export.sandbox.routes.common import ApiError, json_response

MAX_TOKEN_BODY = 300
_MISSING_CREDENTIALS = (
    'Parameter "grant_type", "username" or "password" is missing, empty or invalid'
)


def blueprint(host: SandboxHost) -> Blueprint:
    routes = Blueprint("token", __name__)

    @routes.post("/api/oauth/v1/token")
    def token() -> Response:
        params = _token_params()
        grant_type = params.get("grant_type")
        if not grant_type:
            raise ApiError(422, _MISSING_CREDENTIALS)
        client_id, secret = _client_credentials(params)
        if client_id != host.client_id or secret != host.client_secret:
            raise ApiError(
                422,
                'Parameter "client_id" is missing or does not match any client, or secret is '
                "invalid",
            )
        if grant_type == "password":
            username, password = params.get("username"), params.get("password")
            if not username or not password:
                raise ApiError(422, _MISSING_CREDENTIALS)
            if username != host.username or password != host.password:
                raise ApiError(422, "No user found for the given username and password")
            answer = host.tokens.issue(client_id)
        elif grant_type == "refresh_token":
            refresh = params.get("refresh_token")
            if not refresh:
                raise ApiError(422, 'Parameter "grant_type" or "refresh_token" is missing or empty')
            refreshed = host.tokens.refresh(str(refresh), client_id)
            if refreshed is None:
                raise ApiError(422, "Refresh token is invalid or has expired")
            answer = refreshed
        else:
            raise ApiError(422, "This grant type is not authorized for this client")
        host.stats.count_token()
        return json_response(answer, headers={"Cache-Control": "no-store", "Pragma": "no-cache"})

    return routes


def _token_params() -> dict[str, Any]:
    content_type = request.headers.get("Content-Type")
    if not content_type:
        raise ApiError(
            415,
            'The "Content-Type" header is missing. "application/json" or '
            '"application/x-www-form-urlencoded" has to be specified as value.',
        )
    base = content_type.split(";")[0].strip()
    if base not in {"application/json", "application/x-www-form-urlencoded"}:
        raise ApiError(
            415,
            f'"{base}" in "Content-Type" header is not valid. Only "application/json" or '
            '"application/x-www-form-urlencoded" are allowed.',
        )
    raw = request.get_data(cache=True)
    if len(raw) > MAX_TOKEN_BODY:
        raise ApiError(
            413, f"Request content exceeded the maximum allowed size of {MAX_TOKEN_BODY} bytes"
        )
    if base == "application/json":
        try:
            parsed = orjson.loads(raw) if raw.strip() else {}
        except orjson.JSONDecodeError:
            parsed = {}
        return parsed if isinstance(parsed, dict) else {}
    return dict(request.form.items())


def _client_credentials(params: dict[str, Any]) -> tuple[str | None, str | None]:
    header = request.headers.get("Authorization", "")
    scheme, _, encoded = header.partition(" ")
    if scheme.lower() == "basic" and encoded:
        try:
            decoded = base64.b64decode(encoded.strip(), validate=True).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError):
            return None, None
        client_id, sep, secret = decoded.partition(":")
        return (client_id, secret) if sep else (None, None)
    # oauth2-php also reads the client from the body
    body_id, body_secret = params.get("client_id"), params.get("client_secret")
    return (str(body_id) if body_id else None, str(body_secret) if body_secret else None)
