"""The product and product-model lists: ``search``, value filters and both paginations.

Akeneo's ProductController / ProductModelController ``listAction`` (akeneo/pim-community-dev):
the ``search`` JSON is decoded first (400 ``Search query parameter should be valid
JSON.`` on products, 422 on product models), then the pagination parameters, then the
query validator and the filters (``feed_export.sandbox.search``). Items come in creation
order (the PQB sorts on ``id``). Offset pages stop at Elasticsearch's window of 10,000
items with a documented 422; ``search_after`` pages carry an opaque cursor in
``_links.next``. ``attributes``, ``locales`` and ``scope`` trim the values shown; a
``scope`` also keeps only the products classified in the channel's tree.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Callable, Iterator
from typing import Any
from urllib.parse import quote, urlencode

from flask import Response, request

from feed_export.sandbox.host import SandboxHost
from feed_export.sandbox.routes.common import API, ApiError, authenticate, json_response
from feed_export.sandbox.routes.pagination import PageParams, page_params
from feed_export.sandbox.search import (
    Candidate,
    InvalidQuery,
    Kind,
    ListParams,
    compile_search,
    decode_search,
    php_json,
    validate,
)
from feed_export.sandbox.state import render_product, render_product_model

#: Elasticsearch's index.max_result_window: from + size may not exceed it
MAX_RESULT_WINDOW = 10_000
_WINDOW_DOC = "http://api.akeneo.com/documentation/pagination.html#the-search-after-method"
_WINDOW_MESSAGE = (
    'You have reached the maximum number of pages you can retrieve with the "page" '
    "pagination type. Please use the search after pagination type instead"
)


def list_items(host: SandboxHost, kind: Kind, *, by_uuid: bool = False) -> Response:
    """Answer ``GET /products``, ``/products-uuid`` or ``/product-models``."""
    authenticate(host)
    args = request.args
    try:
        search = decode_search(args.get("search"), 400 if kind == "products" else 422)
        page = page_params(search_after_supported=True)
        params = ListParams(
            search=search,
            scope=args.get("scope"),
            locales=args["locales"].split(",") if "locales" in args else None,
            attributes=args["attributes"].split(",") if "attributes" in args else None,
            search_locale=args.get("search_locale"),
            search_scope=args.get("search_scope"),
        )
        validate(host.catalog, params)
        predicates = compile_search(host.catalog, host.store, kind, params, host.updater.clock())
    except InvalidQuery as exc:
        raise ApiError(exc.status, exc.message) from None
    if not page.search_after and (page.page - 1) * page.limit + page.limit > MAX_RESULT_WINDOW:
        raise ApiError(
            422, _WINDOW_MESSAGE, extra={"_links": {"documentation": {"href": _WINDOW_DOC}}}
        )
    rows = _rows(host, kind, page)
    matching = ((rowid, c) for rowid, c in rows if all(predicate(c) for predicate in predicates))
    render = _renderer(host, kind, params, by_uuid)
    key = "code" if kind == "product-models" else ("uuid" if by_uuid else "identifier")
    path = {"products": "/products-uuid" if by_uuid else "/products"}.get(kind, "/product-models")
    query = _query_parameters(params, page)
    base = f"{request.host_url}{API[1:]}{path}"

    def item_view(candidate: Candidate) -> dict[str, Any]:
        shown = render(candidate.item)
        href = f"{base}/{quote(str(shown[key] if key in shown else candidate.item[key]))}"
        return {"_links": {"self": {"href": href}}, **shown}

    if page.search_after:
        chosen: list[tuple[int, Candidate]] = []
        for found in matching:
            chosen.append(found)
            if len(chosen) == page.limit:
                break
        links: dict[str, Any] = {
            "self": _link(base, query, args.get("search_after")),
            "first": _link(base, query, None),
        }
        if len(chosen) == page.limit:
            links["next"] = _link(base, query, _cursor(kind, chosen[-1][0]))
        return json_response(
            {"_links": links, "_embedded": {"items": [item_view(c) for _, c in chosen]}}
        )
    skip = (page.page - 1) * page.limit
    shown_items: list[dict[str, Any]] = []
    total = 0
    for _rowid, candidate in matching:
        if skip <= total < skip + page.limit:
            shown_items.append(item_view(candidate))
        total += 1
        if not page.with_count and total >= skip + page.limit:
            break
    offset_links: dict[str, Any] = {
        "self": _link(base, {"page": str(page.page), **query}, None),
        "first": _link(base, {"page": "1", **query}, None),
    }
    if page.page > 1:
        offset_links["previous"] = _link(base, {"page": str(page.page - 1), **query}, None)
    if len(shown_items) == page.limit:
        offset_links["next"] = _link(base, {"page": str(page.page + 1), **query}, None)
    answer: dict[str, Any] = {"_links": offset_links, "current_page": page.page}
    if page.with_count:
        answer["items_count"] = total
    answer["_embedded"] = {"items": shown_items}
    return json_response(answer)


def _rows(host: SandboxHost, kind: Kind, page: PageParams) -> Iterator[tuple[int, Candidate]]:
    after = _after_rowid(kind, request.args.get("search_after")) if page.search_after else 0
    store = host.store
    source = store.iter_products(after) if kind == "products" else store.iter_product_models(after)
    for rowid, item in source:
        yield rowid, Candidate(kind, item, store, host.catalog, host.updater.values_with_ancestors)


def _cursor(kind: Kind, rowid: int) -> str:
    """An opaque ``search_after`` value (Akeneo encrypts the last item's id)."""
    raw = f"{'product' if kind == 'products' else 'product_model'}_{rowid}".encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _after_rowid(kind: Kind, cursor: str | None) -> int:
    """The rowid a cursor points after; 0 for none or one the sandbox did not issue.

    Akeneo decrypts an unreadable cursor to an empty key, which sorts before every
    item: the listing starts from the beginning.
    """
    if not cursor:
        return 0
    try:
        text = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
    except (binascii.Error, UnicodeDecodeError, ValueError):
        return 0
    prefix = "product_" if kind == "products" else "product_model_"
    number = text[len(prefix) :] if text.startswith(prefix) else ""
    return int(number) if number.isdigit() and len(number) < 19 else 0


def _query_parameters(params: ListParams, page: PageParams) -> dict[str, str]:
    """The query parameters Akeneo repeats in its links, in its order (normalizeProductsList)."""
    args = request.args
    query = {
        "with_count": args.get("with_count", "false"),
        "pagination_type": args.get("pagination_type", "page"),
        "limit": str(page.limit) if "limit" not in args else args["limit"],
    }
    if params.search:
        query["search"] = php_json(params.search)
    for name in ("scope", "search_scope", "locales", "attributes"):
        if name in args:
            query[name] = args[name]
    return query


def _link(base: str, query: dict[str, str], search_after: str | None) -> dict[str, str]:
    full = dict(query)
    if search_after is not None:
        full["search_after"] = search_after
    return {"href": f"{base}?{urlencode(full)}"}


def _renderer(
    host: SandboxHost, kind: Kind, params: ListParams, by_uuid: bool
) -> Callable[[dict[str, Any]], dict[str, Any]]:
    """Items as GET shows them, values trimmed by ``attributes``, ``scope`` and ``locales``."""
    catalog = host.catalog
    attributes = {a.strip() for a in params.attributes} if params.attributes else None
    locales: set[str] | None = None
    if params.locales is not None:
        locales = {code.strip() for code in params.locales}
    elif params.scope is not None:
        locales = set(catalog.channel_locales.get(params.scope, ()))
    scope = params.scope

    def render(item: dict[str, Any]) -> dict[str, Any]:
        if kind == "products":
            shown = render_product(host.store, host.updater, item, by_uuid=by_uuid)
        else:
            shown = render_product_model(host.store, host.updater, item)
        values: dict[str, list[dict[str, Any]]] = {}
        for code, entries in shown["values"].items():
            if attributes is not None and code not in attributes:
                continue
            kept = [
                e
                for e in entries
                if (scope is None or e.get("scope") in (None, scope))
                and (locales is None or e.get("locale") is None or e.get("locale") in locales)
            ]
            if kept:
                values[code] = kept
        shown["values"] = values
        return shown

    return render
