"""The sandbox PIM's REST API on Flask: token, reference-data lists, products, media files.

Statuses, messages and shapes follow akeneo-api.md: §1 (token), §2 (collection PATCH),
§6 (pagination and search), §7 (media files). The collection PATCH streams one result
line per input line, applying each line just before its result is sent.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import logging
import re
import secrets
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any
from urllib.parse import quote, urlencode

import orjson
from flask import Flask, Response, request
from werkzeug.exceptions import HTTPException, MethodNotAllowed

from feed_export.sandbox.faults import PLAN_KEY, FaultPlan, drop_connection, html_error_page
from feed_export.sandbox.state import render_product, render_product_model
from feed_export.sandbox.store import MediaFile
from feed_export.sandbox.updater import ENTITY_KEYS, Entity

if TYPE_CHECKING:
    from feed_export.sandbox.server import Sandbox

logger = logging.getLogger(__name__)

API = "/api/rest/v1"
COLLECTION_TYPE = "application/vnd.akeneo.collection+json"
MAX_LINES = 100  # api_input_max_resources_number
MAX_LINE_BYTES = 1_000_000  # api_input_buffer_size
MAX_TOKEN_BODY = 300
PAGE_LIMIT_DEFAULT = 10
PAGE_LIMIT_MAX = 100
_INT_RE = re.compile(r"^[0-9]+$")
_PHP_TRIM = " \t\n\r\0\x0b"


class ApiError(Exception):
    """A whole-request error answered as ``{"code": status, "message": message}``."""

    def __init__(self, status: int, message: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.headers = headers or {}


def json_response(data: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    return Response(
        orjson.dumps(data), status=status, headers=headers, content_type="application/json"
    )


def create_app(sandbox: Sandbox) -> Flask:
    """The Flask application serving ``sandbox``'s state."""
    app = Flask("feed_export.sandbox")
    app.config["JSON_SORT_KEYS"] = False

    @app.errorhandler(ApiError)
    def _api_error(exc: ApiError) -> Response:
        return json_response({"code": exc.status, "message": exc.message}, exc.status, exc.headers)

    @app.errorhandler(HTTPException)
    def _http_error(exc: HTTPException) -> Response:
        status = exc.code or 500
        url = f"{request.method} {request.path}"
        if isinstance(exc, MethodNotAllowed):
            allow = ", ".join(
                sorted(m for m in (exc.valid_methods or []) if m not in {"OPTIONS", "HEAD"})
            )
            message = f"No route found for '{url}': Method Not Allowed (Allow: {allow})"
        elif status == 404:
            message = f'No route found for "{url}"'
        else:
            message = exc.description or exc.name
        return json_response({"code": status, "message": message}, status)

    @app.errorhandler(Exception)
    def _crash(exc: Exception) -> Response:  # a sandbox bug: say so, keep serving
        logger.exception("sandbox: internal error on %s %s", request.method, request.path)
        return json_response({"code": 500, "message": "Internal Server Error"}, 500)

    def authenticate() -> None:
        header = request.headers.get("Authorization")
        if not header:
            raise ApiError(401, "Authentication is required")
        scheme, _, token = header.partition(" ")
        state = sandbox.tokens.check(token.strip()) if scheme.lower() == "bearer" else "invalid"
        if state == "invalid":
            raise ApiError(401, "The access token provided is invalid.")
        if state == "expired":
            raise ApiError(401, "The access token provided has expired.")

    @app.before_request
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

    # -- authentication -----------------------------------------------------------------
    @app.post("/api/oauth/v1/token")
    def token() -> Response:
        params = _token_params()
        grant_type = params.get("grant_type")
        if not grant_type:
            raise ApiError(
                422, 'Parameter "grant_type", "username" or "password" is missing, empty or invalid'
            )
        client_id, secret = _client_credentials(params)
        if client_id != sandbox.client_id or secret != sandbox.client_secret:
            raise ApiError(
                422,
                'Parameter "client_id" is missing or does not match any client, or secret is '
                "invalid",
            )
        if grant_type == "password":
            username, password = params.get("username"), params.get("password")
            if not username or not password:
                raise ApiError(
                    422,
                    'Parameter "grant_type", "username" or "password" is missing, empty or invalid',
                )
            if username != sandbox.username or password != sandbox.password:
                raise ApiError(422, "No user found for the given username and password")
            answer = sandbox.tokens.issue(client_id)
        elif grant_type == "refresh_token":
            refresh = params.get("refresh_token")
            if not refresh:
                raise ApiError(422, 'Parameter "grant_type" or "refresh_token" is missing or empty')
            refreshed = sandbox.tokens.refresh(str(refresh), client_id)
            if refreshed is None:
                raise ApiError(422, "Refresh token is invalid or has expired")
            answer = refreshed
        else:
            raise ApiError(422, "This grant type is not authorized for this client")
        sandbox.stats.count_token()
        return json_response(answer, headers={"Cache-Control": "no-store", "Pragma": "no-cache"})

    # -- endpoint list ------------------------------------------------------------------
    @app.get(API)
    def endpoints() -> Response:
        routes = sorted({r.rule for r in app.url_map.iter_rules() if r.rule.startswith(API)})
        return json_response({"host": request.host_url.rstrip("/"), "routes": routes})

    # -- reference data -----------------------------------------------------------------
    def listing(
        items: list[dict[str, Any]],
        self_href: Callable[[dict[str, Any]], str],
        filters: dict[str, set[str]],
    ) -> Response:
        authenticate()
        return paginate(items, self_href, filters)

    def one(items: list[dict[str, Any]], code: str, message: str) -> Response:
        authenticate()
        for item in items:
            if item.get("code") == code:
                return json_response(item)
        raise ApiError(404, message)

    def data(key: str) -> list[dict[str, Any]]:
        items: list[dict[str, Any]] = sandbox.catalog.data.get(key, [])
        return items

    def by_code(items: list[dict[str, Any]]) -> list[dict[str, Any]]:
        return sorted(items, key=lambda item: str(item.get("code", "")))

    def href(path: str) -> Callable[[dict[str, Any]], str]:
        return lambda item: f"{request.host_url}{path.lstrip('/')}/{quote(str(item['code']))}"

    @app.get(f"{API}/attributes")
    def attributes() -> Response:
        return listing(
            by_code(data("attributes")), href(f"{API}/attributes"), {"code": {"IN"}, "type": {"IN"}}
        )

    @app.get(f"{API}/attributes/<code>")
    def attribute(code: str) -> Response:
        return one(data("attributes"), code, f'Attribute "{code}" does not exist.')

    @app.get(f"{API}/attributes/<attribute_code>/options")
    def attribute_options(attribute_code: str) -> Response:
        authenticate()
        if attribute_code not in sandbox.catalog.attributes:
            raise ApiError(404, f'Attribute "{attribute_code}" does not exist.')
        items = sandbox.catalog.data["attribute_options"].get(attribute_code, [])
        return paginate(items, href(f"{API}/attributes/{attribute_code}/options"), {"code": {"IN"}})

    @app.get(f"{API}/attributes/<attribute_code>/options/<code>")
    def attribute_option(attribute_code: str, code: str) -> Response:
        items = sandbox.catalog.data["attribute_options"].get(attribute_code, [])
        return one(
            items,
            code,
            f'Attribute option "{code}" does not exist or is not an option '
            f'of the attribute "{attribute_code}".',
        )

    @app.get(f"{API}/channels")
    def channels() -> Response:
        return listing(by_code(data("channels")), href(f"{API}/channels"), {"code": {"IN"}})

    @app.get(f"{API}/channels/<code>")
    def channel(code: str) -> Response:
        return one(data("channels"), code, f'Channel "{code}" does not exist.')

    @app.get(f"{API}/locales")
    def locales() -> Response:
        return listing(
            by_code(data("locales")), href(f"{API}/locales"), {"code": {"IN"}, "enabled": {"="}}
        )

    @app.get(f"{API}/locales/<code>")
    def locale(code: str) -> Response:
        return one(data("locales"), code, f'Locale "{code}" does not exist.')

    @app.get(f"{API}/currencies")
    def currencies() -> Response:
        return listing(
            by_code(data("currencies")),
            href(f"{API}/currencies"),
            {"code": {"IN"}, "enabled": {"="}},
        )

    @app.get(f"{API}/currencies/<code>")
    def currency(code: str) -> Response:
        return one(data("currencies"), code, f'Currency "{code}" does not exist.')

    @app.get(f"{API}/families")
    def families() -> Response:
        return listing(by_code(data("families")), href(f"{API}/families"), {"code": {"IN"}})

    @app.get(f"{API}/families/<code>")
    def family(code: str) -> Response:
        return one(data("families"), code, f'Family "{code}" does not exist.')

    @app.get(f"{API}/families/<family_code>/variants")
    def family_variants(family_code: str) -> Response:
        authenticate()
        if family_code not in sandbox.catalog.families:
            raise ApiError(404, f'Family "{family_code}" does not exist.')
        items = [
            _variant_view(v)
            for v in data("family_variants")
            if v.get("family") in (None, family_code)
        ]
        return paginate(items, href(f"{API}/families/{family_code}/variants"), {})

    @app.get(f"{API}/families/<family_code>/variants/<code>")
    def family_variant(family_code: str, code: str) -> Response:
        items = [
            _variant_view(v)
            for v in data("family_variants")
            if v.get("family") in (None, family_code)
        ]
        return one(
            items,
            code,
            f'Family variant "{code}" does not exist or is not a variant '
            f'of the family "{family_code}".',
        )

    @app.get(f"{API}/categories")
    def categories() -> Response:
        return listing(
            data("categories"), href(f"{API}/categories"), {"code": {"IN"}, "parent": {"="}}
        )

    @app.get(f"{API}/categories/<code>")
    def category(code: str) -> Response:
        return one(data("categories"), code, f'Category "{code}" does not exist.')

    @app.get(f"{API}/association-types")
    def association_types() -> Response:
        return listing(
            by_code(data("association_types")), href(f"{API}/association-types"), {"code": {"IN"}}
        )

    @app.get(f"{API}/association-types/<code>")
    def association_type(code: str) -> Response:
        return one(data("association_types"), code, f'Association type "{code}" does not exist.')

    @app.get(f"{API}/measurement-families")
    def measurement_families() -> Response:
        authenticate()  # not paginated: a plain array of every family (§6.6)
        return json_response(data("measurement_families"))

    # -- products -----------------------------------------------------------------------
    @app.get(f"{API}/products/<path:identifier>")
    def get_product(identifier: str) -> Response:
        authenticate()
        found = sandbox.store.product_by_identifier(identifier)
        if found is None:
            raise ApiError(404, f'Product "{identifier}" does not exist.')
        return json_response(render_product(sandbox.store, sandbox.updater, found))

    @app.get(f"{API}/products-uuid/<uuid>")
    def get_product_by_uuid(uuid: str) -> Response:
        authenticate()
        found = sandbox.store.product_by_uuid(uuid)
        if found is None:
            raise ApiError(404, f'Product "{uuid}" does not exist.')
        return json_response(render_product(sandbox.store, sandbox.updater, found, by_uuid=True))

    @app.get(f"{API}/product-models/<path:code>")
    def get_product_model(code: str) -> Response:
        authenticate()
        found = sandbox.store.product_model(code)
        if found is None:
            raise ApiError(404, f'Product model "{code}" does not exist.')
        return json_response(render_product_model(sandbox.store, sandbox.updater, found))

    @app.patch(f"{API}/products")
    def patch_products() -> Response:
        return collection_patch("products")

    @app.patch(f"{API}/products-uuid")
    def patch_products_uuid() -> Response:
        return collection_patch("products-uuid")

    @app.patch(f"{API}/product-models")
    def patch_product_models() -> Response:
        return collection_patch("product-models")

    def collection_patch(entity: Entity) -> Response:
        authenticate()
        _require_content_type(COLLECTION_TYPE)
        lines = split_lines(request.get_data(cache=False))
        if len(lines) > MAX_LINES:  # before anything is written (checkLineNumberInInput)
            raise ApiError(
                413, f"Too many resources to process, {MAX_LINES} is the maximum allowed."
            )
        sandbox.stats.count_patch(len(lines))
        plan = request.environ.get(PLAN_KEY) or FaultPlan()
        create_missing = "create_missing_options" in request.args
        body = _stream_results(sandbox, entity, lines, plan, create_missing, request.environ)
        return Response(body, status=200, content_type=COLLECTION_TYPE)

    # -- media files --------------------------------------------------------------------
    @app.post(f"{API}/media-files")
    def post_media_file() -> Response:
        authenticate()
        _require_content_type("multipart/form-data")
        return _upload_media(sandbox)

    @app.get(f"{API}/media-files/<path:code>")
    def get_media_file(code: str) -> Response:
        authenticate()
        if code.endswith("/download"):
            media = sandbox.store.media_file(code[: -len("/download")])
            if media is None:
                raise ApiError(404, f'Media file "{code[: -len("/download")]}" does not exist.')
            return Response(
                media.content,
                content_type=media.mime_type,
                headers={
                    "Content-Disposition": f'attachment; filename="{media.original_filename}"'
                },
            )
        media = sandbox.store.media_file(code)
        if media is None:
            raise ApiError(404, f'Media file "{code}" does not exist.')
        return json_response(
            {
                "code": media.code,
                "original_filename": media.original_filename,
                "mime_type": media.mime_type,
                "size": media.size,
                "extension": media.extension,
                "_links": {
                    "download": {
                        "href": f"{request.host_url}{API[1:]}/media-files/{media.code}/download"
                    }
                },
            }
        )

    return app


def _variant_view(variant: dict[str, Any]) -> dict[str, Any]:
    # the catalog file names each variant's family; the API answer does not
    return {k: v for k, v in variant.items() if k != "family"}


# -- helpers used inside requests ---------------------------------------------------------
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


def _require_content_type(expected: str) -> None:
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
    sandbox: Sandbox,
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
    for number, raw in enumerate(lines[:count], start=1):
        result = process_line(sandbox, entity, key, raw, number, plan, create_missing)
        yield (b"\n" if number > 1 else b"") + orjson.dumps(result)
    if plan.kind == "cut":
        drop_connection(environ)  # the chunked stream ends without its last chunk
    elif plan.kind == "html_tail":
        # a fatal error while handling the next line: Symfony's page, glued to the output
        yield html_error_page(500).encode()


def process_line(
    sandbox: Sandbox,
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
    with sandbox.store.lock:
        outcome = sandbox.updater.upsert(entity, value, data, create_missing_options=create_missing)
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


def _upload_media(sandbox: Sandbox) -> Response:
    upload = request.files.get("file")
    if upload is None:
        raise ApiError(422, 'Property "file" is required.')
    product_raw = request.form.get("product")
    model_raw = request.form.get("product_model")
    if product_raw is not None and model_raw is not None:
        raise ApiError(422, 'You should give either a "product" or a "product_model" key.')
    if product_raw is None and model_raw is None:
        raise ApiError(
            422,
            'You should at least give one of the following properties: "product" or '
            '"product_model".',
        )
    is_model = model_raw is not None
    raw = model_raw if is_model else product_raw
    try:
        target = orjson.loads(raw or "")
    except orjson.JSONDecodeError:
        raise ApiError(400, "Invalid json message received") from None
    key = "code" if is_model else "identifier"
    if not isinstance(target, dict) or not {key, "attribute", "locale", "scope"} <= target.keys():
        if is_model:
            raise ApiError(
                422,
                'Product model property must contain "code", "attribute", '
                '"locale" and "scope" properties.',
            )
        raise ApiError(
            422,
            'Product property must contain "identifier", "attribute", "locale" '
            'and "scope" properties.',
        )
    owner_code = str(target[key])
    with sandbox.store.lock:
        if is_model:
            exists = sandbox.store.product_model(owner_code) is not None
        else:
            exists = sandbox.store.product_by_identifier(owner_code) is not None
        if not exists:
            kind = "Product model" if is_model else "Product"
            raise ApiError(422, f'{kind} "{owner_code}" does not exist.')
        _check_media_target(sandbox, target)
        content = upload.read()
        filename = upload.filename or "file"
        code = _media_code(content, filename)
        extension = filename.rsplit(".", 1)[-1].lower() if "." in filename else ""
        sandbox.store.save_media_file(
            MediaFile(
                code=code,
                original_filename=filename,
                mime_type=upload.mimetype or "application/octet-stream",
                size=len(content),
                extension=extension,
                content=content,
            )
        )
        value = {"locale": target["locale"], "scope": target["scope"], "data": code}
        entity: Entity = "product-models" if is_model else "products"
        body: dict[str, Any] = {"values": {target["attribute"]: [value]}}
        outcome = sandbox.updater.upsert(entity, owner_code, body)
        if outcome.body is not None:
            sandbox.store.delete_media_file(code)  # on any failure the stored file goes
            answer = {k: v for k, v in outcome.body.items() if k != "_links"}
            return json_response(answer, outcome.status)
    location = f"{request.host_url}{API[1:]}/media-files/{code}"
    return Response(b"", status=201, headers={"Location": location})


def _check_media_target(sandbox: Sandbox, target: dict[str, Any]) -> None:
    """The older setter's checks and texts for the attribute, locale and scope (§7)."""
    code = str(target["attribute"])
    spec = sandbox.catalog.attribute(code)
    if spec is None:
        raise ApiError(422, f'Attribute "{code}" does not exist.')
    if spec.type not in {"pim_catalog_file", "pim_catalog_image"}:
        # UNCONFIRMED text
        raise ApiError(422, f'Attribute "{code}" is not a file or image attribute.')
    locale, scope = target["locale"], target["scope"]
    if spec.localizable and locale is None:
        raise ApiError(422, f'Attribute "{code}" expects a locale, none given.')
    if not spec.localizable and locale is not None:
        raise ApiError(422, f'Attribute "{code}" does not expect a locale, "{locale}" given.')
    if spec.scopable and scope is None:
        raise ApiError(422, f'Attribute "{code}" expects a scope, none given.')
    if not spec.scopable and scope is not None:
        raise ApiError(422, f'Attribute "{code}" does not expect a scope, "{scope}" given.')


def _media_code(content: bytes, filename: str) -> str:
    """A file-info key: 4 one-character folders, a sha1, ``_``, the cleaned file name."""
    digest = hashlib.sha1(content + secrets.token_bytes(8)).hexdigest()
    clean = re.sub(r"[^A-Za-z0-9._-]", "_", filename) or "file"
    return f"{digest[0]}/{digest[1]}/{digest[2]}/{digest[3]}/{digest}_{clean}"


# -- pagination and search (§6.1) ---------------------------------------------------------
def paginate(
    items: list[dict[str, Any]],
    self_href: Callable[[dict[str, Any]], str],
    filters: dict[str, set[str]],
) -> Response:
    """Akeneo's offset pagination over ``items``, after the ``search`` filter."""
    args = request.args
    pagination_type = args.get("pagination_type", "page")
    if pagination_type not in {"page", "search_after"}:
        raise ApiError(422, "Pagination type does not exist.")
    if pagination_type == "search_after":
        raise ApiError(422, "Pagination type is not supported.")
    page_text = args.get("page", "1")
    if not _INT_RE.match(page_text) or int(page_text) < 1:
        raise ApiError(422, f'"{page_text}" is not a valid page number.')
    limit_text = args.get("limit", str(PAGE_LIMIT_DEFAULT))
    if not _INT_RE.match(limit_text) or int(limit_text) < 1:
        raise ApiError(422, f'"{limit_text}" is not a valid limit number.')
    if int(limit_text) > PAGE_LIMIT_MAX:
        raise ApiError(422, f"You cannot request more than {PAGE_LIMIT_MAX} items.")
    with_count_text = args.get("with_count", "false")
    if with_count_text not in {"true", "false"}:
        raise ApiError(
            422,
            'Parameter "with_count" has to be a boolean. Only "true" or "false" allowed, '
            f'"{with_count_text}" given.',
        )
    page, limit, with_count = int(page_text), int(limit_text), with_count_text == "true"
    search = args.get("search")
    if search is not None:
        items = apply_search(items, search, filters)
    start = (page - 1) * limit
    chunk = items[start : start + limit]
    base = f"{request.host_url}{request.path.lstrip('/')}"

    def link(number: int) -> dict[str, str]:
        query: dict[str, str] = {
            "page": str(number),
            "limit": str(limit),
            "with_count": "true" if with_count else "false",
        }
        if search is not None:
            query["search"] = search
        return {"href": f"{base}?{urlencode(query)}"}

    links: dict[str, Any] = {"self": link(page), "first": link(1)}
    if page > 1:
        links["previous"] = link(page - 1)
    if len(chunk) == limit:  # so the page after the last full one is empty (§6.1)
        links["next"] = link(page + 1)
    answer: dict[str, Any] = {"_links": links, "current_page": page}
    if with_count:
        answer["items_count"] = len(items)
    answer["_embedded"] = {
        "items": [{"_links": {"self": {"href": self_href(item)}}, **item} for item in chunk]
    }
    return json_response(answer)


def apply_search(
    items: list[dict[str, Any]], search: str, filters: dict[str, set[str]]
) -> list[dict[str, Any]]:
    """Items matching ``search`` (``code IN``, ``enabled =``, ``type IN``...)."""
    try:
        criteria = orjson.loads(search)
    except orjson.JSONDecodeError:
        raise ApiError(400, "Search query parameter should be valid JSON.") from None
    if not isinstance(criteria, dict):
        raise ApiError(400, "Search query parameter should be valid JSON.")
    for prop, conditions in criteria.items():
        structure = (
            f'Structure of filter "{prop}" should respect this structure: '
            f'{{"{prop}":[{{"operator": "my_operator", "value": "my_value"}}]}}'
        )
        if not isinstance(conditions, list) or not all(
            isinstance(c, dict) and "operator" in c for c in conditions
        ):
            raise ApiError(422, structure)
        for condition in conditions:
            operator = condition["operator"]
            if prop not in filters or operator not in filters[prop]:
                raise ApiError(
                    422,
                    f'Filter on property "{prop}" is not supported or does not support operator '
                    f'"{operator}"',
                )
            value = condition.get("value")
            if operator == "IN":
                if not isinstance(value, list):
                    raise ApiError(
                        422, f'Filter "{prop}" with operator "IN" expects an array as value.'
                    )
                wanted = set(value)
                items = [item for item in items if item.get(prop) in wanted]
            else:
                items = [item for item in items if item.get(prop) == value]
    return items
