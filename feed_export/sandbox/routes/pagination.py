"""Akeneo's offset pagination and the ``search`` filter of the reference-data lists (§6.1)."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

import orjson
from flask import Response, request

from feed_export.sandbox.routes.common import ApiError, json_response

PAGE_LIMIT_DEFAULT = 10
PAGE_LIMIT_MAX = 100
PHP_INT_MAX = 9223372036854775807
_CANONICAL_INT_RE = re.compile(r"^(?:0|-?[1-9][0-9]*)$")


@dataclass(frozen=True, slots=True)
class PageParams:
    """The validated pagination parameters of one list request."""

    search_after: bool
    page: int
    limit: int
    with_count: bool


def php_integer(text: str) -> int | None:
    """``text`` as Akeneo's PaginationParametersValidator::isInteger accepts it, or None.

    Source: akeneo/pim-community-dev, src/Akeneo/Tool/Component/Api/Pagination/
    PaginationParametersValidator.php.

    Akeneo keeps a parameter when ``strval($p) === strval(intval($p))``: the canonical
    decimal form of a PHP integer. intval() saturates at PHP_INT_MAX, so a number beyond
    64 bits fails the test (422, not 500); so do "007", "+5", " 5" and "1e3".

    >>> php_integer("12"), php_integer("007"), php_integer("9223372036854775808")
    (12, None, None)
    """
    if not _CANONICAL_INT_RE.match(text) or len(text) > 20:
        return None
    value = int(text)
    return value if -PHP_INT_MAX - 1 <= value <= PHP_INT_MAX else None


def page_params(*, search_after_supported: bool = False) -> PageParams:
    """The request's ``pagination_type``, ``page``, ``limit`` and ``with_count``, checked.

    Akeneo's PaginationParametersValidator: with search_after only ``limit`` is checked
    (and only where the endpoint supports it); with offset pages all three are.
    """
    args = request.args
    pagination_type = args.get("pagination_type", "page")
    if pagination_type not in {"page", "search_after"}:
        raise ApiError(422, "Pagination type does not exist.")
    search_after = pagination_type == "search_after"
    if search_after and not search_after_supported:
        raise ApiError(422, "Pagination type is not supported.")
    limit_text = args.get("limit", str(PAGE_LIMIT_DEFAULT))
    limit = php_integer(limit_text)
    if limit is None or limit < 1:
        raise ApiError(422, f'"{limit_text}" is not a valid limit number.')
    if limit > PAGE_LIMIT_MAX:
        raise ApiError(422, f"You cannot request more than {PAGE_LIMIT_MAX} items.")
    if search_after:
        return PageParams(search_after=True, page=1, limit=limit, with_count=False)
    page_text = args.get("page", "1")
    page = php_integer(page_text)
    if page is None or page < 1:
        raise ApiError(422, f'"{page_text}" is not a valid page number.')
    with_count_text = args.get("with_count", "false")
    if with_count_text not in {"true", "false"}:
        raise ApiError(
            422,
            'Parameter "with_count" has to be a boolean. Only "true" or "false" allowed, '
            f'"{with_count_text}" given.',
        )
    return PageParams(
        search_after=False, page=page, limit=limit, with_count=with_count_text == "true"
    )


def paginate(
    items: list[dict[str, Any]],
    self_href: Callable[[dict[str, Any]], str],
    filters: dict[str, set[str]],
) -> Response:
    """Akeneo's offset pagination over ``items``, after the ``search`` filter."""
    args = request.args
    params = page_params()
    page, limit, with_count = params.page, params.limit, params.with_count
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
