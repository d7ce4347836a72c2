"""Products and product models as the sandbox's GET endpoints show them, for the API and tests."""

from __future__ import annotations

from typing import Any

from feed_export.sandbox.store import MediaFile, SandboxStore
from feed_export.sandbox.updater import Updater


def render_product(
    store: SandboxStore, updater: Updater, product: dict[str, Any], *, by_uuid: bool = False
) -> dict[str, Any]:
    """A stored product in the shape of ``GET /products/{id}`` (or ``/products-uuid/{uuid}``).

    Values include those inherited from parent models; associations name products by
    identifier (by uuid on the uuid endpoint).
    """
    shown: dict[str, Any] = {"uuid": product["uuid"]}
    if not by_uuid:
        shown["identifier"] = product.get("identifier")
    shown.update(
        enabled=product.get("enabled", True),
        family=product.get("family"),
        categories=list(product.get("categories", [])),
        groups=list(product.get("groups", [])),
        parent=product.get("parent"),
        values=updater.values_with_ancestors(product),
        created=product.get("created"),
        updated=product.get("updated"),
        associations=_render_associations(store, product.get("associations", {}), by_uuid),
        quantified_associations=product.get("quantified_associations", {}),
    )
    return shown


def render_product_model(
    store: SandboxStore, updater: Updater, model: dict[str, Any]
) -> dict[str, Any]:
    """A stored product model in the shape of ``GET /product-models/{code}``."""
    return {
        "code": model["code"],
        "family": model.get("family"),
        "family_variant": model.get("family_variant"),
        "parent": model.get("parent"),
        "categories": list(model.get("categories", [])),
        "values": updater.values_with_ancestors(model),
        "created": model.get("created"),
        "updated": model.get("updated"),
        "associations": _render_associations(store, model.get("associations", {}), False),
        "quantified_associations": model.get("quantified_associations", {}),
    }


def _render_associations(
    store: SandboxStore, associations: dict[str, Any], by_uuid: bool
) -> dict[str, Any]:
    shown: dict[str, Any] = {}
    for type_code, slot in sorted(associations.items()):
        uuids = list(slot.get("product_uuids", []))
        if by_uuid:
            products = uuids
        else:
            products = []
            for uid in uuids:
                target = store.product_by_uuid(uid)
                if target is not None and target.get("identifier") is not None:
                    products.append(target["identifier"])
        shown[type_code] = {
            "groups": list(slot.get("groups", [])),
            "products": products,
            "product_models": list(slot.get("product_models", [])),
        }
    return shown


class SandboxState:
    """Read access to what the sandbox holds, in API shape (for tests and demos)."""

    def __init__(self, store: SandboxStore, updater: Updater) -> None:
        self._store = store
        self._updater = updater

    def product(self, identifier: str) -> dict[str, Any] | None:
        """The product as ``GET /products/{identifier}`` returns it, or None."""
        found = self._store.product_by_identifier(identifier)
        return None if found is None else render_product(self._store, self._updater, found)

    def product_by_uuid(self, uuid: str) -> dict[str, Any] | None:
        found = self._store.product_by_uuid(uuid)
        return (
            None
            if found is None
            else render_product(self._store, self._updater, found, by_uuid=True)
        )

    def product_model(self, code: str) -> dict[str, Any] | None:
        found = self._store.product_model(code)
        return None if found is None else render_product_model(self._store, self._updater, found)

    def products(self) -> list[dict[str, Any]]:
        """Every product, by identifier, in ``GET /products/{identifier}`` shape."""
        return [render_product(self._store, self._updater, p) for p in self._store.products()]

    def product_models(self) -> list[dict[str, Any]]:
        return [
            render_product_model(self._store, self._updater, m)
            for m in self._store.product_models()
        ]

    def count_products(self) -> int:
        return self._store.count_products()

    def media_file(self, code: str) -> MediaFile | None:
        return self._store.media_file(code)

    def asset(self, family: str, code: str) -> dict[str, Any] | None:
        """An asset as stored (code, values with ``channel``, created, updated), or None."""
        return self._store.asset(family, code)

    def assets(self, family: str) -> list[dict[str, Any]]:
        """Every asset of ``family``, by code."""
        return list(self._store.iter_assets(family))

    def asset_media_file(self, code: str) -> MediaFile | None:
        return self._store.asset_media_file(code)

    @property
    def catalog(self) -> dict[str, Any]:
        """The catalog as served (options created on the fly included)."""
        return self._updater.catalog.data
