"""Products by identifier and by uuid: ``GET`` one, the collection ``PATCH`` (§2, §4)."""

from __future__ import annotations

from flask import Blueprint, Response

from feed_export.sandbox.host import SandboxHost
from feed_export.sandbox.routes.collection import collection_patch
from feed_export.sandbox.routes.common import API, ApiError, authenticate, json_response
from feed_export.sandbox.state import render_product


def blueprint(host: SandboxHost) -> Blueprint:
    routes = Blueprint("products", __name__)

    @routes.get(f"{API}/products/<path:identifier>")
    def get_product(identifier: str) -> Response:
        authenticate(host)
        found = host.store.product_by_identifier(identifier)
        if found is None:
            raise ApiError(404, f'Product "{identifier}" does not exist.')
        return json_response(render_product(host.store, host.updater, found))

    @routes.get(f"{API}/products-uuid/<uuid>")
    def get_product_by_uuid(uuid: str) -> Response:
        authenticate(host)
        found = host.store.product_by_uuid(uuid)
        if found is None:
            raise ApiError(404, f'Product "{uuid}" does not exist.')
        return json_response(render_product(host.store, host.updater, found, by_uuid=True))

    @routes.patch(f"{API}/products")
    def patch_products() -> Response:
        return collection_patch(host, "products")

    @routes.patch(f"{API}/products-uuid")
    def patch_products_uuid() -> Response:
        return collection_patch(host, "products-uuid")

    return routes
