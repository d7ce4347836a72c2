"""Product models: the list, ``GET`` and ``DELETE`` one, and the collection ``PATCH``."""

from __future__ import annotations

from flask import Blueprint, Response

from feed_export.sandbox.host import SandboxHost
from feed_export.sandbox.routes.collection import collection_patch
from feed_export.sandbox.routes.common import API, ApiError, authenticate, json_response
from feed_export.sandbox.routes.listing import list_items
from feed_export.sandbox.state import render_product_model


def blueprint(host: SandboxHost) -> Blueprint:
    routes = Blueprint("product_models", __name__)

    @routes.get(f"{API}/product-models")
    def list_product_models() -> Response:
        return list_items(host, "product-models")

    @routes.get(f"{API}/product-models/<path:code>")
    def get_product_model(code: str) -> Response:
        authenticate(host)
        found = host.store.product_model(code)
        if found is None:
            raise ApiError(404, f'Product model "{code}" does not exist.')
        return json_response(render_product_model(host.store, host.updater, found))

    @routes.delete(f"{API}/product-models/<path:code>")
    def delete_product_model(code: str) -> Response:
        """204 after removing the model and, as the API reference says, all its children.

        ProductModelController::deleteAction (404 text); "All its children, product
        models and variant products, will be also deleted." (API reference).
        """
        authenticate(host)
        store = host.store
        with store.lock:
            found = store.product_model(code)
            if found is None:
                raise ApiError(
                    404,
                    f'Product model "{code}" does not exist or you do not have permission to '
                    "access it.",
                )
            pending = [found["code"]]
            doomed: list[str] = []
            while pending:
                current = pending.pop()
                doomed.append(current)
                for product in store.child_products(current):
                    store.delete_product(product["uuid"])
                pending.extend(m["code"] for m in store.child_models(current))
            for model_code in reversed(doomed):
                store.delete_product_model(model_code)
        return Response(status=204)

    @routes.patch(f"{API}/product-models")
    def patch_product_models() -> Response:
        return collection_patch(host, "product-models")

    return routes
