"""Asset media files: the multipart upload (``Asset-media-file-code``) and the download.

Akeneo's UploadMediaFileAction and DownloadMediaFileAction (akeneo/pim-community-dev,
src/Akeneo/AssetManager/back/Infrastructure/Connector/Api/MediaFile/): 422 ``Property
"file" is required.``, 422 for an extension with special characters, then 201 with an
empty body, the file's code in ``Asset-media-file-code`` and its download URL in
``Location``. Asset files are kept apart from product media files, as Akeneo keeps them
in another storage.
"""

from __future__ import annotations

import re

from flask import Blueprint, Response, request

from feed_export.sandbox.host import SandboxHost
from feed_export.sandbox.routes.common import (
    API,
    ApiError,
    api_url,
    authenticate,
    require_content_type,
)
from feed_export.sandbox.routes.media_files import file_extension, media_code
from feed_export.sandbox.store import MediaFile

# UploadMediaFileAction: preg_quote('& \ + * ? [ ^ ] $ ( ) { } = ! < > | : - # @ ;')
_SPECIAL = re.compile(r"[& \\+*?\[\^\]$(){}=!<>|:\-#@;]")


def blueprint(host: SandboxHost) -> Blueprint:
    routes = Blueprint("asset_media_files", __name__)

    @routes.post(f"{API}/asset-media-files")
    def upload_asset_media_file() -> Response:
        authenticate(host)
        require_content_type("multipart/form-data")
        upload = request.files.get("file")
        if upload is None:
            raise ApiError(422, 'Property "file" is required.')
        filename = upload.filename or "file"
        extension = filename.rsplit(".", 1)[-1] if "." in filename else ""
        if _SPECIAL.search(extension):
            raise ApiError(422, "File extension cannot contain special characters.")
        content = upload.read()
        code = media_code(content, filename)
        host.store.save_asset_media_file(
            MediaFile(
                code=code,
                original_filename=filename,
                mime_type=upload.mimetype or "application/octet-stream",
                size=len(content),
                extension=file_extension(filename),
                content=content,
            )
        )
        location = api_url(f"/asset-media-files/{code}")
        return Response(
            b"", status=201, headers={"Asset-media-file-code": code, "Location": location}
        )

    @routes.get(f"{API}/asset-media-files/<path:code>")
    def download_asset_media_file(code: str) -> Response:
        authenticate(host)
        media = host.store.asset_media_file(code)
        if media is None:
            # UNCONFIRMED text: MediaFileNotFoundException's message
            raise ApiError(404, f'Media file "{code}" does not exist.')
        return Response(
            media.content,
            content_type=media.mime_type,
            headers={"Content-Disposition": f'attachment; filename="{media.original_filename}"'},
        )

    return routes
