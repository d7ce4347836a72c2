"""Asset families, their attributes and their assets (Akeneo's asset manager API).

Sources: akeneo/pim-community-dev, src/Akeneo/AssetManager/back/Infrastructure/Connector/
Api/ (``GetConnectorAssetFamiliesAction``, ``GetConnectorAssetFamilyAction``,
``GetConnectorAssetFamilyAttributesAction``, ``GetConnectorAssetsAction``,
``GetConnectorAssetAction``, ``CreateOrUpdateAssetsAction``, ``CreateOrUpdateAssetAction``)
and the API reference (swagger). Lists use ``search_after`` on codes, 100 items a page;
the family code in the URL is case-sensitive. The asset collection PATCH takes a JSON
array of at most 100 assets and answers a JSON array of per-asset results.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import datetime
from typing import Any
from urllib.parse import quote, urlencode

import orjson
from flask import Blueprint, Response, request

from feed_export.sandbox.assets import (
    MAX_ASSETS_PER_REQUEST,
    AssetResult,
    AssetUpdater,
    asset_code_problem,
    render_asset,
)
from feed_export.sandbox.faults import PLAN_KEY, FaultPlan, drop_connection, html_error_page
from feed_export.sandbox.host import SandboxHost
from feed_export.sandbox.routes.common import (
    API,
    ApiError,
    api_url,
    authenticate,
    json_response,
    require_content_type,
)

#: the asset manager's page size (its ``limit`` argument), not a query parameter
PAGE_SIZE = 100


def _family_problem(code: str) -> str | None:
    # AssetFamilyIdentifier::fromString; UNCONFIRMED texts, after the asset code ones
    problem = asset_code_problem(code)
    return None if problem is None else problem.replace("Asset code", "Asset family identifier")


def blueprint(host: SandboxHost) -> Blueprint:
    routes = Blueprint("assets", __name__)
    updater = AssetUpdater(host.catalog, host.store, host.updater.clock)

    def family_or_404(code: str) -> dict[str, Any]:
        problem = _family_problem(code)
        if problem is not None:
            raise ApiError(422, problem)
        family = host.catalog.asset_families.get(code)
        if family is None:
            raise ApiError(404, f'Asset family "{code}" does not exist.')
        return family

    def download(code: str) -> str:
        return api_url(f"/asset-media-files/{code}")

    @routes.get(f"{API}/asset-families")
    def list_asset_families() -> Response:
        authenticate(host)
        after = request.args.get("search_after")
        if after is not None and (problem := _family_problem(after)) is not None:
            raise ApiError(422, problem)
        codes = sorted(host.catalog.asset_families, key=str.lower)
        if after is not None:
            codes = [c for c in codes if c.lower() > after.lower()]
        page = codes[:PAGE_SIZE]
        items = [
            {
                "_links": {"self": {"href": api_url(f"/asset-families/{quote(code)}")}},
                **host.catalog.asset_families[code],
            }
            for code in page
        ]
        base = api_url("/asset-families")
        next_code = page[-1] if len(page) == PAGE_SIZE else None
        return json_response(_search_after_page(base, {}, after, next_code, items))

    @routes.get(f"{API}/asset-families/<code>")
    def get_asset_family(code: str) -> Response:
        authenticate(host)
        return json_response(family_or_404(code))

    @routes.get(f"{API}/asset-families/<family>/attributes")
    def list_asset_attributes(family: str) -> Response:
        authenticate(host)
        family_or_404(family)
        items = host.catalog.data["asset_attributes"].get(family, [])
        return json_response(
            [
                {
                    "_links": {
                        "self": {
                            "href": api_url(
                                f"/asset-families/{quote(family)}/attributes/{quote(a['code'])}"
                            )
                        }
                    },
                    **a,
                }
                for a in items
            ]
        )

    @routes.get(f"{API}/asset-families/<family>/assets")
    def list_assets(family: str) -> Response:
        authenticate(host)
        args = request.args
        search = args.get("search")
        codes, updated_after = _asset_filters(search)
        after = args.get("search_after")
        if after is not None and (problem := asset_code_problem(after)) is not None:
            raise ApiError(422, problem)
        family_or_404(family)
        channel = args.get("channel")
        locales_text = args.get("locales", "")
        locales = set(locales_text.split(",")) if locales_text else None
        attributes = host.catalog.asset_attributes.get(family, {})
        chosen: list[dict[str, Any]] = []
        for asset in _matching(host, family, after, codes, updated_after):
            shown = render_asset(asset, attributes, download)
            shown["values"] = {
                code: kept
                for code, entries in shown["values"].items()
                if (
                    kept := [
                        e
                        for e in entries
                        if (channel is None or e["channel"] in (None, channel))
                        and (locales is None or e["locale"] is None or e["locale"] in locales)
                    ]
                )
            }
            href = api_url(f"/asset-families/{quote(family)}/assets/{quote(asset['code'])}")
            chosen.append({"_links": {"self": {"href": href}}, **shown})
            if len(chosen) == PAGE_SIZE:
                break
        query = {
            k: v
            for k, v in (("channel", channel), ("locales", args.get("locales")), ("search", search))
            if v is not None
        }
        base = api_url(f"/asset-families/{quote(family)}/assets")
        next_code = chosen[-1]["code"] if len(chosen) == PAGE_SIZE else None
        return json_response(_search_after_page(base, query, after, next_code, chosen))

    @routes.get(f"{API}/asset-families/<family>/assets/<code>")
    def get_asset(family: str, code: str) -> Response:
        authenticate(host)
        problem = asset_code_problem(code)
        if problem is not None:
            raise ApiError(422, problem)
        family_or_404(family)
        asset = host.store.asset(family, code)
        if asset is None:
            raise ApiError(404, f'Asset "{code}" does not exist for the asset family "{family}".')
        attributes = host.catalog.asset_attributes.get(family, {})
        return json_response(render_asset(asset, attributes, download))

    @routes.patch(f"{API}/asset-families/<family>/assets")
    def patch_assets(family: str) -> Response:
        authenticate(host)
        require_content_type("application/json")  # a request listener: before the action
        family_or_404(family)
        assets = _decode(request.get_data(cache=False))
        if not isinstance(assets, list) or not all(isinstance(a, dict) for a in assets):
            # AssetListValidator: a JSON array of objects (UNCONFIRMED schema message)
            return json_response(
                {
                    "code": 400,
                    "message": "The list of assets has an invalid format.",
                    "errors": [{"property": "", "message": "The list must be an array of objects"}],
                },
                400,
            )
        if len(assets) > MAX_ASSETS_PER_REQUEST:
            raise ApiError(
                413,
                f"Too many resources to process, {MAX_ASSETS_PER_REQUEST} is the maximum allowed.",
            )
        plan: FaultPlan = request.environ.get(PLAN_KEY) or FaultPlan()
        count = len(assets)
        if plan.kind in {"cut", "html_tail"}:
            count = plan.cut_line(len(assets))  # the assets after the fault are never applied
        lines: list[dict[str, Any]] = []
        for asset in assets[:count]:
            with host.store.lock:
                lines.append(updater.upsert(family, asset).as_line())
        if plan.kind == "cut":
            drop_connection(request.environ)  # a connection lost before the answer
            return Response(b"", status=200, content_type="application/json")
        body = orjson.dumps(lines)
        if plan.kind == "html_tail":
            body += html_error_page(500).encode()  # a fatal error after the last asset
        return Response(body, status=200, content_type="application/json")

    @routes.patch(f"{API}/asset-families/<family>/assets/<code>")
    def patch_asset(family: str, code: str) -> Response:
        authenticate(host)
        require_content_type("application/json")
        problem = asset_code_problem(code)
        if problem is not None:
            raise ApiError(422, problem)
        family_or_404(family)
        asset = _decode(request.get_data(cache=False))
        if not isinstance(asset, dict) or asset.get("code") != code:
            raise ApiError(
                422,
                "The code of the asset provided in the URI must be the same as the one provided "
                "in the request body.",
            )
        with host.store.lock:
            result: AssetResult = updater.upsert(family, asset)
        if result.status == 422:
            body: dict[str, Any] = {"code": 422, "message": result.message}
            if result.errors is not None:
                body["errors"] = result.errors
            return json_response(body, 422)
        location = api_url(f"/asset-families/{quote(family)}/assets/{quote(result.code)}")
        return Response(b"", status=result.status, headers={"Location": location})

    return routes


def _decode(raw: bytes) -> Any:
    try:
        decoded = orjson.loads(raw)
    except orjson.JSONDecodeError:
        decoded = None
    if decoded is None:
        raise ApiError(400, "Invalid json message received")
    return decoded


def _asset_filters(search: str | None) -> tuple[set[str] | None, datetime | None]:
    """The ``code IN`` and ``updated >`` filters of the asset list (SearchFiltersValidator)."""
    if search is None:
        return None, None
    try:
        filters = json.loads(search)
    except ValueError:
        filters = None
    if not isinstance(filters, dict | list):
        raise ApiError(400, "The search query parameter must be a valid JSON.")
    errors: list[dict[str, str]] = []
    codes: set[str] | None = None
    updated_after: datetime | None = None
    items = filters.items() if isinstance(filters, dict) else []
    for prop, conditions in items:
        if prop not in {"code", "updated"}:
            # UNCONFIRMED wording: the JSON-schema validator's additionalProperties error
            errors.append(
                {
                    "property": "",
                    "message": f"The property {prop} is not defined and the definition does not "
                    "allow additional properties",
                }
            )
            continue
        if not isinstance(conditions, list) or not conditions:
            errors.append(
                {"property": prop, "message": "An array with at least 1 item is required"}
            )
            continue
        for condition in conditions:
            operator = condition.get("operator") if isinstance(condition, dict) else None
            value = condition.get("value") if isinstance(condition, dict) else None
            if prop == "code":
                if (
                    operator != "IN"
                    or not isinstance(value, list)
                    or not all(isinstance(v, str) for v in value)
                ):
                    errors.append(
                        {
                            "property": "code",
                            "message": 'Expected operator "IN" with a list of codes',
                        }
                    )
                    continue
                wanted = {v.lower() for v in value}
                codes = wanted if codes is None else codes & wanted
            else:
                moment = _datetime(value) if operator == ">" else None
                if moment is None:
                    errors.append(
                        {
                            "property": "updated",
                            "message": 'Expected operator ">" with an ISO 8601 date-time',
                        }
                    )
                    continue
                updated_after = moment
    if errors:
        raise _FiltersInvalid(errors)
    return codes, updated_after


class _FiltersInvalid(ApiError):
    def __init__(self, errors: list[dict[str, str]]) -> None:
        super().__init__(
            422, "The search filters have an invalid format.", extra={"errors": errors}
        )


def _datetime(value: Any) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment if moment.tzinfo is not None else None


def _matching(
    host: SandboxHost,
    family: str,
    after: str | None,
    codes: set[str] | None,
    updated_after: datetime | None,
) -> Iterator[dict[str, Any]]:
    for asset in host.store.iter_assets(family, after):
        if codes is not None and asset["code"].lower() not in codes:
            continue
        if updated_after is not None:
            stamp = _datetime(asset.get("updated"))
            if stamp is None or stamp <= updated_after:
                continue
        yield asset


def _search_after_page(
    base: str,
    query: dict[str, str],
    after: str | None,
    next_code: str | None,
    items: list[dict[str, Any]],
) -> dict[str, Any]:
    """A SearchAfterHalPaginator page: self, first, and next when the page is full."""

    def link(cursor: str | None) -> dict[str, str]:
        full = dict(query)
        if cursor is not None:
            full["search_after"] = cursor
        return {"href": f"{base}?{urlencode(full)}" if full else base}

    links: dict[str, Any] = {"self": link(after), "first": link(None)}
    if next_code is not None:
        links["next"] = link(next_code)
    return {"_links": links, "_embedded": {"items": items}}
