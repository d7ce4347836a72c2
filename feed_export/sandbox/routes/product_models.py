"""Product models: ``GET`` one and the collection ``PATCH`` (§2)."""

from __future__ import annotations

from flask import Blueprint, Response

from feed_export.sandbox.host import SandboxHost
from feed_export.sandbox.routes.collection import collection_patch
from feed_export.sandbox.routes.common import API, ApiError, authenticate, json_response
from feed_export.sandbox.state import render_product_model


def blueprint(host: SandboxHost) -> Blueprint:
    routes = Blueprint("product_models", __name__)

    @routes.get(f"{API}/product-models/<path:code>")
    def get_product_model(code: str) -> Response:
        authenticate(host)
        found = host.store.product_model(code)
        if found is None:
            raise ApiError(404, f'Product model "{code}" does not exist.')
        return json_response(render_product_model(host.store, host.updater, found))

    @routes.patch(f"{API}/product-models")
    def patch_product_models() -> Response:
        return collection_patch(host, "product-models")

    return routes
