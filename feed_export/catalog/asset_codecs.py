"""Codecs of assets: an asset collection cell (codes or files), an asset's attribute values.

Beside ``codecs.py``, in its terms (a ``Codec`` per column: ``decode`` cell -> data,
``encode`` data -> cell; ``CellError`` without the header, ``EMPTY`` for a list cell of
separators only):

- ``asset_collection_codec``: a product's asset collection cell, split on the value
  separator. Each item is an asset code (letters, digits and ``_``, at most 255: Akeneo's
  ``AssetCode``), or a file that becomes an asset of the attribute's family: an http(s)
  URL, a path beside the feed (with its extension), or ``CODE=URL`` / ``CODE=PATH``.
  Files decode to ``AssetFile`` (the push makes them assets and names them); what the
  PIM holds (codes) encodes as codes joined with the separator.
- ``asset_value_codec``: a value of an asset family's attribute (an assets feed): a
  ``media_file`` cell is a media-file code or a file to upload (``AssetFile``), a
  ``media_link`` cell its URL (the link's ``prefix`` cut off), text, numbers (as text,
  as the asset API keeps them), booleans, options.
- ``code_from_name``: an asset code from a file name, as Akeneo's asset upload makes it.

>>> from feed_export.catalog.structure import Catalog
>>> from feed_export.config import ExportOptions
>>> catalog = Catalog.from_dict({"attributes": [{"code": "packshots", "type":
...     "pim_catalog_asset_collection", "reference_data_name": "packshots"}],
...     "asset_families": [{"code": "packshots", "attribute_as_main_media": "media"}],
...     "asset_attributes": {"packshots": [{"code": "media", "type": "media_file"}]}})
>>> codec = asset_collection_codec(catalog.attribute("packshots"), catalog, ExportOptions())
>>> codec.decode("tee_front<###>https://cdn.example.com/back.jpg")[1]
AssetFile(source='https://cdn.example.com/back.jpg', kind='url', code=None, link=None)
>>> codec.encode(["tee_front", "back"])
'tee_front<###>back'
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import PurePosixPath
from typing import Any, Final, Literal
from urllib.parse import unquote, urlsplit

from feed_export.catalog.codecs import (
    EMPTY,
    Codec,
    check_media_name,
    code_codec,
    codes_codec,
    media_source,
    quote,
    value_codec,
)
from feed_export.catalog.structure import AssetAttribute, Attribute, Catalog
from feed_export.config import ExportOptions
from feed_export.errors import CellError

#: Akeneo's AssetCode: letters, digits and underscores, 1 to 255 of them
MAX_CODE: Final = 255
_CODE: Final = re.compile(r"[A-Za-z0-9_]{1,255}")
_NOT_CODE: Final = re.compile(r"[^A-Za-z0-9_]")
_EXTENSION: Final = re.compile(r"\.[^/.]+$")

FileKind = Literal["url", "path"]


@dataclass(frozen=True, slots=True)
class AssetFile:
    """A file a cell names: it becomes an asset (or an asset's media) when pushed."""

    source: str  # the URL or the path, trimmed
    kind: FileKind
    code: str | None = None  # named in the cell (``CODE=URL``)
    link: str | None = None  # a media_link family: the asset's value


def is_asset_code(text: str) -> bool:
    """Whether ``text`` is a valid asset code (``AssetCode::fromString``).

    >>> is_asset_code("front_01"), is_asset_code("front-01"), is_asset_code("")
    (True, False, False)
    """
    return _CODE.fullmatch(text) is not None


def code_from_name(name: str) -> str:
    """The asset code for a file name, as Akeneo's asset upload makes it: the extension
    dropped, accents taken off, spaces dropped, any other character outside
    ``[A-Za-z0-9_]`` turned into ``_``, at most 255; ``asset`` when nothing is left.

    >>> code_from_name("Front view.JPG"), code_from_name("été-2024.png"), code_from_name(".png")
    ('Frontview', 'ete_2024', 'asset')
    """
    stem = _EXTENSION.sub("", name)
    plain = "".join(c for c in unicodedata.normalize("NFKD", stem) if not unicodedata.combining(c))
    code = _NOT_CODE.sub("_", plain.replace(" ", ""))[:MAX_CODE]
    return code or "asset"


def file_name(source: str, kind: FileKind) -> str:
    """The file name a URL (its query left out) or a path ends with.

    >>> file_name("https://cdn.test/a/care%20label.png?w=200", "url")
    'care label.png'
    """
    if kind == "url":
        return unquote(PurePosixPath(urlsplit(source).path).name)
    return source.replace("\\", "/").rstrip("/").rsplit("/", 1)[-1]


def suffixed(base: str, source: str) -> str:
    """``base`` made unique for ``source``: ``<base>_<8 hex of the source's SHA-1>``.

    >>> suffixed("front", "https://cdn.test/b/front.jpg")
    'front_019e97fa'
    """
    digest = hashlib.sha1(source.encode("utf-8")).hexdigest()[:8]
    return f"{base[: MAX_CODE - 9]}_{digest}"


def _code_problem(text: str) -> str:
    return (
        f"an asset code holds only letters, digits and underscores (at most {MAX_CODE}), "
        f"got {quote(text)}"
    )


def asset_code(cell: str) -> str:
    """One asset code (an assets feed's ``code``), trimmed."""
    code = cell.strip()
    if not is_asset_code(code):
        raise CellError(_code_problem(code))
    return code


ASSET_CODE: Final = Codec(asset_code, lambda data: asset_code(str(data)))


# ---------------------------------------------------------------------------
# an asset collection cell


def _link_value(main: AssetAttribute, url: str, item: str) -> str:
    """The value of a media_link for ``url``: its ``prefix`` (and ``suffix``) cut off."""
    prefix, suffix = main.prefix or "", main.suffix or ""
    if prefix:
        if not url.startswith(prefix):
            raise CellError(
                f"the links of this asset family begin with {quote(prefix)}; got {quote(item)}"
            )
        url = url[len(prefix) :]
    if suffix and url.endswith(suffix):
        url = url[: -len(suffix)]
    return url


def _files_of(
    attribute: Attribute, catalog: Catalog
) -> Callable[[str, str, str | None], AssetFile]:
    """How a file item becomes an ``AssetFile`` for ``attribute``'s family (or why not)."""
    family_code = attribute.reference_data_name or ""
    family = catalog.asset_family(family_code)
    main = catalog.main_media(family_code) if family is not None else None
    allowed = frozenset(e.lower().lstrip(".") for e in main.allowed_extensions) if main else ()
    why = ""
    if family is None:
        why = (
            f"asset family {quote(family_code)} is not in the catalog"
            if catalog.has("asset_families")
            else "the catalog has no asset families (feed-export catalog pull writes them)"
        )
    elif main is None:
        why = f"the catalog does not say the main media of asset family {family.code}"
    elif main.type not in ("media_file", "media_link"):
        why = f"the main media of asset family {family.code} is a {main.type}, not a file"
    elif main.value_per_locale or main.value_per_channel:
        why = (
            f"the main media of asset family {family.code} has a value per locale or channel: "
            "push such files with an assets feed (--entity assets)"
        )

    def make(source: str, kind: str, code: str | None) -> AssetFile:
        item = f"{code}={source}" if code else source
        if why:
            raise CellError(f"files become assets here, but {why}; got {quote(item)}")
        assert main is not None
        if main.type == "media_link":
            if kind != "url":
                raise CellError(
                    f"asset family {attribute.reference_data_name} keeps links: give a URL, "
                    f"got {quote(item)}"
                )
            return AssetFile(source, "url", code, _link_value(main, source, item))
        if kind == "path":
            check_media_name(source.replace("\\", "/"), frozenset(allowed), item)
        return AssetFile(source, "url" if kind == "url" else "path", code)

    return make


def _looks_like_file(text: str) -> bool:
    """A path names a file: it has a folder or an extension (``img/a``, ``a.jpg``)."""
    name = text.replace("\\", "/").rsplit("/", 1)[-1]
    return "/" in text.replace("\\", "/") or ("." in name.strip(".") and name != "")


def asset_collection_codec(attribute: Attribute, catalog: Catalog, options: ExportOptions) -> Codec:
    """A product's asset collection cell: codes, and files (``AssetFile``) to make assets."""
    make = _files_of(attribute, catalog)
    limit = attribute.max_items_count
    codes = codes_codec(options)

    def item(text: str) -> str | AssetFile:
        if is_asset_code(text):
            return text
        code: str | None = None
        head, equals, rest = text.partition("=")
        if equals and is_asset_code(head.strip()) and rest.strip():
            code, text = head.strip(), rest.strip()
        kind, source = media_source(text)
        if kind == "code":
            raise CellError(
                f"a media-file code is not an asset: give the asset's code or the file, "
                f"got {quote(text)}"
            )
        if kind == "path" and not _looks_like_file(source):
            raise CellError(
                "not an asset code (letters, digits and underscores) nor a file (a URL, or "
                f"a path with its extension): {quote(text)}"
            )
        return make(source, kind, code)

    split = codes.decode
    is_code = _CODE.fullmatch

    def decode(cell: str) -> list[str | AssetFile] | Any:
        # the codes codec splits, trims and drops repeats; a cell of codes only (the usual
        # one) is its answer as it is, other items become files (``item``)
        texts = split(cell)
        if texts is EMPTY:
            return EMPTY
        out: list[str | AssetFile] = texts
        if not all(is_code(text) for text in texts):
            out = list(dict.fromkeys(map(item, texts)))  # the first of each, in order
        if limit and len(out) > limit:
            raise CellError(
                f"holds {len(out)} assets, over this attribute's limit of {limit}: {quote(cell)}"
            )
        return out

    return Codec(decode, codes.encode)


# ---------------------------------------------------------------------------
# an asset's values (an assets feed)

_AS_PRODUCT_TYPE: Final = {
    "text": "pim_catalog_text",
    "boolean": "pim_catalog_boolean",
    "date": "pim_catalog_date",
}


def _media_file(attribute: AssetAttribute) -> Codec:
    allowed = frozenset(e.lower().lstrip(".") for e in attribute.allowed_extensions)

    def decode(cell: str) -> str | AssetFile:
        kind, text = media_source(cell)
        if kind == "code":
            check_media_name(text, allowed, cell)
            return text
        if kind == "path":
            check_media_name(text.replace("\\", "/"), allowed, cell)
        return AssetFile(text, kind)

    def encode(data: Any) -> str:
        if data.__class__ is not str or not data:
            raise CellError(f"cannot write {data!r} in a cell: expected a media-file code")
        text: str = data
        return text

    return Codec(decode, encode)


def _media_link(attribute: AssetAttribute) -> Codec:
    def decode(cell: str) -> str:
        text = cell.strip()
        if attribute.prefix and "://" in text:
            return _link_value(attribute, text, cell)
        return text

    def encode(data: Any) -> str:
        if data.__class__ is not str:
            raise CellError(f"cannot write {data!r} in a cell: expected a link")
        text: str = data
        return text

    return Codec(decode, encode)


def _number(attribute: AssetAttribute, catalog: Catalog, options: ExportOptions) -> Codec:
    as_product = Attribute(
        code=attribute.code,
        type="pim_catalog_number",
        decimals_allowed=attribute.decimals_allowed is not False,
        number_min=attribute.min_value,
        number_max=attribute.max_value,
    )
    number = value_codec(as_product, catalog, options)

    def decode(cell: str) -> str:
        return str(number.decode(cell))  # the asset API keeps numbers as text

    return Codec(decode, number.encode)


def asset_value_codec(attribute: AssetAttribute, catalog: Catalog, options: ExportOptions) -> Codec:
    """The codec of one value of an asset family's attribute."""
    kind = attribute.type
    if kind == "media_file":
        return _media_file(attribute)
    if kind == "media_link":
        return _media_link(attribute)
    if kind == "number":
        return _number(attribute, catalog, options)
    if kind in ("single_option", "asset_family_single_link", "record"):
        return code_codec(options)
    if kind in ("multiple_options", "asset_family_multiple_links"):
        return codes_codec(options)
    as_product = Attribute(
        code=attribute.code,
        type=_AS_PRODUCT_TYPE.get(kind, "pim_catalog_text"),
        max_characters=attribute.max_characters,
    )
    return value_codec(as_product, catalog, options)
