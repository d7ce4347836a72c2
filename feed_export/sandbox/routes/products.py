"""Products by identifier and by uuid: lists, GET and DELETE one, the collection PATCH."""

from __future__ import annotations

import re

from flask import Blueprint, Response

from feed_export.sandbox.host import SandboxHost
from feed_export.sandbox.routes.collection import collection_patch
from feed_export.sandbox.routes.common import API, ApiError, authenticate, json_response
from feed_export.sandbox.routes.listing import list_items
from feed_export.sandbox.state import render_product

_UUID_RE = re.compile(
    r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$"
)


def _unknown_product(key: str) -> ApiError:
    # UnknownProductException (akeneo/pim-community-dev, Enrichment/Component/Product/Exception)
    return ApiError(404, f"The {key} product does not exist in your PIM.")


def blueprint(host: SandboxHost) -> Blueprint:
    routes = Blueprint("products", __name__)

    @routes.get(f"{API}/products")
    def list_products() -> Response:
        return list_items(host, "products")

    @routes.get(f"{API}/products-uuid")
    def list_products_uuid() -> Response:
        return list_items(host, "products", by_uuid=True)

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

    @routes.delete(f"{API}/products/<path:identifier>")
    def delete_product(identifier: str) -> Response:
        # ProductController::deleteAction: 404 for an unknown product, else 204
        authenticate(host)
        with host.store.lock:
            found = host.store.product_by_identifier(identifier)
            if found is None:
                raise _unknown_product(identifier)
            host.store.delete_product(found["uuid"])
        return Response(status=204)

    @routes.delete(f"{API}/products-uuid/<uuid>")
    def delete_product_by_uuid(uuid: str) -> Response:
        # DeleteProductByUuidController: 400 for a malformed uuid, 404, else 204
        authenticate(host)
        if not _UUID_RE.match(uuid):
            raise ApiError(400, "The provided uuid is not valid")
        with host.store.lock:
            found = host.store.product_by_uuid(uuid)
            if found is None:
                raise _unknown_product(uuid)
            host.store.delete_product(found["uuid"])
        return Response(status=204)

    @routes.patch(f"{API}/products")
    def patch_products() -> Response:
        return collection_patch(host, "products")

    @routes.patch(f"{API}/products-uuid")
    def patch_products_uuid() -> Response:
        return collection_patch(host, "products-uuid")

    return routes
