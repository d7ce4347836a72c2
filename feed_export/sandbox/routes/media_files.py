"""Product media files (§7): the multipart upload that also sets the value, metadata, download."""

from __future__ import annotations

import hashlib
import re
import secrets
from typing import Any

import orjson
from flask import Blueprint, Response, request

from feed_export.sandbox.host import SandboxHost
from feed_export.sandbox.routes.common import (
    API,
    ApiError,
    api_url,
    authenticate,
    json_response,
    require_content_type,
)
from feed_export.sandbox.store import MediaFile
from feed_export.sandbox.updater import Entity


def blueprint(host: SandboxHost) -> Blueprint:
    routes = Blueprint("media_files", __name__)

    @routes.post(f"{API}/media-files")
    def post_media_file() -> Response:
        authenticate(host)
        require_content_type("multipart/form-data")
        return _upload_media(host)

    @routes.get(f"{API}/media-files/<path:code>")
    def get_media_file(code: str) -> Response:
        authenticate(host)
        if code.endswith("/download"):
            media = host.store.media_file(code[: -len("/download")])
            if media is None:
                raise ApiError(404, f'Media file "{code[: -len("/download")]}" does not exist.')
            return Response(
                media.content,
                content_type=media.mime_type,
                headers={
                    "Content-Disposition": f'attachment; filename="{media.original_filename}"'
                },
            )
        media = host.store.media_file(code)
        if media is None:
            raise ApiError(404, f'Media file "{code}" does not exist.')
        return json_response(
            {
                "code": media.code,
                "original_filename": media.original_filename,
                "mime_type": media.mime_type,
                "size": media.size,
                "extension": media.extension,
                "_links": {"download": {"href": api_url(f"/media-files/{media.code}/download")}},
            }
        )

    return routes


def _upload_media(host: SandboxHost) -> Response:
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
    with host.store.lock:
        if is_model:
            exists = host.store.product_model(owner_code) is not None
        else:
            exists = host.store.product_by_identifier(owner_code) is not None
        if not exists:
            kind = "Product model" if is_model else "Product"
            raise ApiError(422, f'{kind} "{owner_code}" does not exist.')
        _check_media_target(host, target)
        content = upload.read()
        filename = upload.filename or "file"
        code = media_code(content, filename)
        host.store.save_media_file(
            MediaFile(
                code=code,
                original_filename=filename,
                mime_type=upload.mimetype or "application/octet-stream",
                size=len(content),
                extension=file_extension(filename),
                content=content,
            )
        )
        value = {"locale": target["locale"], "scope": target["scope"], "data": code}
        entity: Entity = "product-models" if is_model else "products"
        body: dict[str, Any] = {"values": {target["attribute"]: [value]}}
        # MediaFileController updates without the attribute filter
        outcome = host.updater.upsert(entity, owner_code, body, filter_attributes=False)
        if outcome.body is not None:
            host.store.delete_media_file(code)  # on any failure the stored file goes
            answer = {k: v for k, v in outcome.body.items() if k != "_links"}
            return json_response(answer, outcome.status)
    return Response(b"", status=201, headers={"Location": api_url(f"/media-files/{code}")})


def _check_media_target(host: SandboxHost, target: dict[str, Any]) -> None:
    """The older setter's checks and texts for the attribute, locale and scope (§7)."""
    code = str(target["attribute"])
    spec = host.catalog.attribute(code)
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


def media_code(content: bytes, filename: str) -> str:
    """A file-info key: 4 one-character folders, a sha1, ``_``, the cleaned file name."""
    digest = hashlib.sha1(content + secrets.token_bytes(8)).hexdigest()
    clean = re.sub(r"[^A-Za-z0-9._-]", "_", filename) or "file"
    return f"{digest[0]}/{digest[1]}/{digest[2]}/{digest[3]}/{digest}_{clean}"


def file_extension(filename: str) -> str:
    return filename.rsplit(".", 1)[-1].lower() if "." in filename else ""
