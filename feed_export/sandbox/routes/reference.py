"""The catalog's lists and items: attributes and options, channels, locales, currencies,
families and variants, categories, association types, measurement families (§6)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from urllib.parse import quote

from flask import Blueprint, Response, request

from feed_export.sandbox.host import SandboxHost
from feed_export.sandbox.routes.common import API, ApiError, authenticate, json_response
from feed_export.sandbox.routes.pagination import paginate


def href(path: str) -> Callable[[dict[str, Any]], str]:
    """An item's ``_links.self`` URL: ``path`` followed by its quoted code."""
    return lambda item: f"{request.host_url}{path.lstrip('/')}/{quote(str(item['code']))}"


def by_code(items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return sorted(items, key=lambda item: str(item.get("code", "")))


def blueprint(host: SandboxHost) -> Blueprint:
    routes = Blueprint("reference", __name__)

    def listing(
        items: list[dict[str, Any]],
        self_href: Callable[[dict[str, Any]], str],
        filters: dict[str, set[str]],
    ) -> Response:
        authenticate(host)
        return paginate(items, self_href, filters)

    def one(items: list[dict[str, Any]], code: str, message: str) -> Response:
        authenticate(host)
        for item in items:
            if item.get("code") == code:
                return json_response(item)
        raise ApiError(404, message)

    def data(key: str) -> list[dict[str, Any]]:
        items: list[dict[str, Any]] = host.catalog.data.get(key, [])
        return items

    def variants_of(family_code: str) -> list[dict[str, Any]]:
        return [
            _variant_view(v)
            for v in data("family_variants")
            if v.get("family") in (None, family_code)
        ]

    @routes.get(f"{API}/attributes")
    def attributes() -> Response:
        return listing(
            by_code(data("attributes")), href(f"{API}/attributes"), {"code": {"IN"}, "type": {"IN"}}
        )

    @routes.get(f"{API}/attributes/<code>")
    def attribute(code: str) -> Response:
        return one(data("attributes"), code, f'Attribute "{code}" does not exist.')

    @routes.get(f"{API}/attributes/<attribute_code>/options")
    def attribute_options(attribute_code: str) -> Response:
        authenticate(host)
        if attribute_code not in host.catalog.attributes:
            raise ApiError(404, f'Attribute "{attribute_code}" does not exist.')
        items = host.catalog.data["attribute_options"].get(attribute_code, [])
        return paginate(items, href(f"{API}/attributes/{attribute_code}/options"), {"code": {"IN"}})

    @routes.get(f"{API}/attributes/<attribute_code>/options/<code>")
    def attribute_option(attribute_code: str, code: str) -> Response:
        items = host.catalog.data["attribute_options"].get(attribute_code, [])
        return one(
            items,
            code,
            f'Attribute option "{code}" does not exist or is not an option '
            f'of the attribute "{attribute_code}".',
        )

    @routes.get(f"{API}/channels")
    def channels() -> Response:
        return listing(by_code(data("channels")), href(f"{API}/channels"), {"code": {"IN"}})

    @routes.get(f"{API}/channels/<code>")
    def channel(code: str) -> Response:
        return one(data("channels"), code, f'Channel "{code}" does not exist.')

    @routes.get(f"{API}/locales")
    def locales() -> Response:
        return listing(
            by_code(data("locales")), href(f"{API}/locales"), {"code": {"IN"}, "enabled": {"="}}
        )

    @routes.get(f"{API}/locales/<code>")
    def locale(code: str) -> Response:
        return one(data("locales"), code, f'Locale "{code}" does not exist.')

    @routes.get(f"{API}/currencies")
    def currencies() -> Response:
        return listing(
            by_code(data("currencies")),
            href(f"{API}/currencies"),
            {"code": {"IN"}, "enabled": {"="}},
        )

    @routes.get(f"{API}/currencies/<code>")
    def currency(code: str) -> Response:
        return one(data("currencies"), code, f'Currency "{code}" does not exist.')

    @routes.get(f"{API}/families")
    def families() -> Response:
        return listing(by_code(data("families")), href(f"{API}/families"), {"code": {"IN"}})

    @routes.get(f"{API}/families/<code>")
    def family(code: str) -> Response:
        return one(data("families"), code, f'Family "{code}" does not exist.')

    @routes.get(f"{API}/families/<family_code>/variants")
    def family_variants(family_code: str) -> Response:
        authenticate(host)
        if family_code not in host.catalog.families:
            raise ApiError(404, f'Family "{family_code}" does not exist.')
        return paginate(
            variants_of(family_code), href(f"{API}/families/{family_code}/variants"), {}
        )

    @routes.get(f"{API}/families/<family_code>/variants/<code>")
    def family_variant(family_code: str, code: str) -> Response:
        return one(
            variants_of(family_code),
            code,
            f'Family variant "{code}" does not exist or is not a variant '
            f'of the family "{family_code}".',
        )

    @routes.get(f"{API}/categories")
    def categories() -> Response:
        return listing(
            data("categories"), href(f"{API}/categories"), {"code": {"IN"}, "parent": {"="}}
        )

    @routes.get(f"{API}/categories/<code>")
    def category(code: str) -> Response:
        return one(data("categories"), code, f'Category "{code}" does not exist.')

    @routes.get(f"{API}/association-types")
    def association_types() -> Response:
        return listing(
            by_code(data("association_types")), href(f"{API}/association-types"), {"code": {"IN"}}
        )

    @routes.get(f"{API}/association-types/<code>")
    def association_type(code: str) -> Response:
        return one(data("association_types"), code, f'Association type "{code}" does not exist.')

    @routes.get(f"{API}/measurement-families")
    def measurement_families() -> Response:
        authenticate(host)  # not paginated: a plain array of every family (§6.6)
        return json_response(data("measurement_families"))

    return routes


def _variant_view(variant: dict[str, Any]) -> dict[str, Any]:
    # the catalog file names each variant's family; the API answer does not
    return {k: v for k, v in variant.items() if k != "family"}
