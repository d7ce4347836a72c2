"""The sandbox PIM's Flask application: error answers, the Accept check, and the routes.

Statuses, messages and shapes follow akeneo-api.md; each resource's routes live in
their own module under ``routes`` and see the sandbox through ``host.SandboxHost``.
"""

from __future__ import annotations

import logging

from flask import Flask, Response, current_app, request
from werkzeug.exceptions import HTTPException, MethodNotAllowed

from feed_export.sandbox.host import SandboxHost
from feed_export.sandbox.routes import (
    asset_media_files,
    assets,
    media_files,
    product_models,
    products,
    reference,
    token,
)
from feed_export.sandbox.routes.common import API, ApiError, json_response

logger = logging.getLogger(__name__)

#: the order of methods in a 405's Allow list (HEAD and OPTIONS are Flask's own)
_METHOD_ORDER = ("GET", "POST", "PATCH", "DELETE")


def create_app(host: SandboxHost) -> Flask:
    """The Flask application serving ``host``'s state."""
    app = Flask("feed_export.sandbox")
    app.config["JSON_SORT_KEYS"] = False
    app.register_error_handler(ApiError, _api_error)
    app.register_error_handler(HTTPException, _http_error)
    app.register_error_handler(Exception, _crash)
    app.before_request(_check_accept)
    app.add_url_rule(API, "endpoints", _endpoints, methods=["GET"])
    modules = (token, reference, products, product_models, media_files, assets, asset_media_files)
    for module in modules:
        app.register_blueprint(module.blueprint(host))
    return app


def _api_error(exc: ApiError) -> Response:
    body = {"code": exc.status, "message": exc.message, **exc.extra}
    return json_response(body, exc.status, exc.headers)


def _http_error(exc: HTTPException) -> Response:
    status = exc.code or 500
    url = f"{request.method} {request.path}"
    headers: dict[str, str] = {}
    if isinstance(exc, MethodNotAllowed):
        # Symfony's MethodNotAllowedHttpException sends the methods in an Allow header too,
        # in the routes' order: "(Allow: GET, PATCH, DELETE)" (DOC-RESP, akeneo-api.md §5)
        valid = set(exc.valid_methods or ())
        allow = ", ".join(m for m in _METHOD_ORDER if m in valid)
        headers["Allow"] = allow
        message = f"No route found for '{url}': Method Not Allowed (Allow: {allow})"
    elif status == 404:
        message = f'No route found for "{url}"'
    else:
        message = exc.description or exc.name
    return json_response({"code": status, "message": message}, status, headers)


def _crash(exc: Exception) -> Response:  # a sandbox bug: say so, keep serving
    logger.exception("sandbox: internal error on %s %s", request.method, request.path)
    return json_response({"code": 500, "message": "Internal Server Error"}, 500)


def _check_accept() -> None:
    if request.method != "GET" or not request.path.startswith(API):
        return
    accept = request.headers.get("Accept")
    if accept is None:
        return
    ranges = {part.split(";")[0].strip().lower() for part in accept.split(",")}
    if not ranges & {"application/json", "*/*", "application/*", ""}:
        raise ApiError(
            406,
            f'"{accept}" in "Accept" header is not valid. Only "application/json" is allowed.',
        )


def _endpoints() -> Response:
    rules = current_app.url_map.iter_rules()
    routes = sorted({r.rule for r in rules if r.rule.startswith(API)})
    return json_response({"host": request.host_url.rstrip("/"), "routes": routes})
