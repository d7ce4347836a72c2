"""One asset create-or-update, checked and merged as Akeneo's asset manager does it.

Sources: akeneo/pim-community-dev, src/Akeneo/AssetManager/back/Infrastructure/Connector/
Api/Asset/ (``CreateOrUpdateAssetsAction``, ``CreateOrUpdateAssetAction``, the JSON-schema
``AssetValidator`` and its per-type value validators) and the asset manager's
``validators.en_US.yml`` (the business-rule texts). The order is Akeneo's: the
structure first (``The asset has an invalid format.`` with the schema errors), then the
asset code (``AssetCode::fromString``), then the values' business rules (``The asset
has data that does not comply with the business rules.``), then the write.

UNCONFIRMED, the sandbox's own: the schema errors' wording (modelled on the
justinrainbow/json-schema messages), the ``property`` of business-rule errors
(``values.<attribute>``), the unknown-attribute text, the text-length text, and the
AssetCode texts, written after the RecordCode ones they were copied from.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from feed_export.sandbox.catalog import AssetAttributeSpec, SandboxCatalog
from feed_export.sandbox.store import SandboxStore
from feed_export.sandbox.updater import php_str, to_decimal

MAX_ASSETS_PER_REQUEST = 100  # api_input_max_resources_number
INVALID_FORMAT = "The asset has an invalid format."
BUSINESS_RULES = "The asset has data that does not comply with the business rules."
_CODE_RE = re.compile(r"^[a-zA-Z0-9_]+$")
_TOP_LEVEL = frozenset({"_links", "code", "values", "asset_family_code", "created", "updated"})
# the JSON types each asset attribute type accepts as ``data`` (the per-type validators)
_DATA_TYPES: dict[str, tuple[type, ...]] = {
    "text": (str,),
    "media_file": (str,),
    "media_link": (str,),
    "number": (str,),
    "single_option": (str,),
    "multiple_options": (list,),
    "boolean": (bool,),
    "date": (str,),
}
_TYPE_WORDS = {str: "a string", list: "an array", bool: "a boolean"}


@dataclass(frozen=True, slots=True)
class AssetResult:
    """One asset's answer: its status and, on 422, the message and errors."""

    code: str
    status: int
    message: str | None = None
    errors: list[dict[str, str]] | None = None

    def as_line(self) -> dict[str, Any]:
        """The answer as one item of the collection PATCH's JSON array."""
        line: dict[str, Any] = {"code": self.code, "status_code": self.status}
        if self.message is not None:
            line["message"] = self.message
        if self.errors is not None:
            line["errors"] = self.errors
        return line


def asset_code_problem(code: Any) -> str | None:
    """What ``AssetCode::fromString`` refuses in ``code``, or None (texts after RecordCode)."""
    text = php_str(code)
    if not text:
        return "Asset code cannot be empty"
    if len(text) > 255:
        return f"Asset code cannot be longer than 255 characters, {len(text)} string long given"
    if not _CODE_RE.match(text):
        return f'Asset code may contain only letters, numbers and underscores. "{text}" given'
    return None


def _json_word(value: Any) -> str:
    """A JSON value's type as justinrainbow/json-schema names it in its messages."""
    if value is None:
        return "NULL"
    if isinstance(value, bool):
        return "Boolean"
    if isinstance(value, int):
        return "Integer"
    if isinstance(value, float):
        return "Number"
    if isinstance(value, str):
        return "String"
    if isinstance(value, list):
        return "Array"
    return "Object"


def structure_errors(asset: Any, attributes: dict[str, AssetAttributeSpec]) -> list[dict[str, str]]:
    """The JSON-schema errors of one asset (AssetPropertiesValidator, then its values)."""
    if not isinstance(asset, dict):
        return [
            {
                "property": "",
                "message": f"{_json_word(asset)} value found, but an object is required",
            }
        ]
    errors: list[dict[str, str]] = []
    if "code" not in asset:
        errors.append({"property": "code", "message": "The property code is required"})
    elif not isinstance(asset["code"], str):
        errors.append(
            {
                "property": "code",
                "message": f"{_json_word(asset['code'])} value found, but a string is required",
            }
        )
    for key in asset:
        if key not in _TOP_LEVEL:
            errors.append(
                {
                    "property": "",
                    "message": f"The property {key} is not defined and the definition does not "
                    "allow additional properties",
                }
            )
    values = asset.get("values")
    if values is not None and not isinstance(values, dict):
        errors.append(
            {
                "property": "values",
                "message": f"{_json_word(values)} value found, but an object is required",
            }
        )
        return errors
    for code, entries in (values or {}).items():
        if not isinstance(entries, list):
            errors.append(
                {
                    "property": f"values.{code}",
                    "message": f"{_json_word(entries)} value found, but an array is required",
                }
            )
    if errors or not values:
        return errors
    for code, entries in values.items():
        spec = attributes.get(code)
        if spec is None:
            continue  # the schema only checks the family's attributes
        for index, entry in enumerate(entries):
            where = f"values.{code}[{index}]"
            if not isinstance(entry, dict):
                errors.append(
                    {
                        "property": where,
                        "message": f"{_json_word(entry)} value found, but an object is required",
                    }
                )
                continue
            for key in ("locale", "channel", "data"):
                if key not in entry:
                    errors.append(
                        {"property": f"{where}.{key}", "message": f"The property {key} is required"}
                    )
            for key in entry:
                if key not in {"locale", "channel", "data", "_links", "linked_data"}:
                    errors.append(
                        {
                            "property": where,
                            "message": f"The property {key} is not defined and the definition "
                            "does not allow additional properties",
                        }
                    )
            for key in ("locale", "channel"):
                if entry.get(key) is not None and not isinstance(entry[key], str):
                    errors.append(
                        {
                            "property": f"{where}.{key}",
                            "message": f"{_json_word(entry[key])} value found, but a string or "
                            "a null is required",
                        }
                    )
            allowed = _DATA_TYPES.get(spec.type)
            data = entry.get("data")
            if allowed is not None and data is not None and not isinstance(data, allowed):
                words = " or ".join(_TYPE_WORDS[t] for t in allowed)
                errors.append(
                    {
                        "property": f"{where}.data",
                        "message": f"{_json_word(data)} value found, but {words} or a null is "
                        "required",
                    }
                )
    return errors


@dataclass
class AssetUpdater:
    """Applies one asset to the store. Call it with ``store.lock`` held."""

    catalog: SandboxCatalog
    store: SandboxStore
    clock: Callable[[], float]

    def upsert(self, family: str, asset: Any) -> AssetResult:
        """Create (201) or update (204) ``asset`` in ``family``, or say why not (422)."""
        attributes = self.catalog.asset_attributes.get(family, {})
        raw_code = asset.get("code") if isinstance(asset, dict) else None
        shown_code = raw_code if isinstance(raw_code, str) else php_str(raw_code)
        errors = structure_errors(asset, attributes)
        if errors:
            return AssetResult(shown_code, 422, INVALID_FORMAT, errors)
        code: str = asset["code"]
        problem = asset_code_problem(code)
        if problem is not None:
            return AssetResult(code, 422, problem)
        values = asset.get("values") or {}
        for attribute in values:
            if attribute not in attributes:
                # UNCONFIRMED text: the edit-command factory's refusal of an unknown attribute
                return AssetResult(
                    code,
                    422,
                    f'The attribute "{attribute}" does not exist for the asset family "{family}".',
                )
        violations = self._violations(attributes, values)
        if violations:
            return AssetResult(code, 422, BUSINESS_RULES, violations)
        old = self.store.asset(family, code)
        now = datetime.fromtimestamp(self.clock(), UTC).strftime("%Y-%m-%dT%H:%M:%S+00:00")
        stored: dict[str, Any] = (
            {"code": code, "values": {}, "created": now, "updated": now}
            if old is None
            else {**old, "values": {k: list(v) for k, v in old["values"].items()}}
        )
        for attribute, entries in values.items():
            for entry in entries:
                slot = [
                    v
                    for v in stored["values"].get(attribute, [])
                    if (v["locale"], v["channel"]) != (entry["locale"], entry["channel"])
                ]
                if entry["data"] not in (None, "", []):
                    slot.append(
                        {
                            "locale": entry["locale"],
                            "channel": entry["channel"],
                            "data": entry["data"],
                        }
                    )
                if slot:
                    stored["values"][attribute] = slot
                else:
                    stored["values"].pop(attribute, None)
        if old is None:
            self.store.save_asset(family, stored)
            return AssetResult(code, 201)
        if stored != old:
            stored["updated"] = now
            self.store.save_asset(family, stored)
        return AssetResult(code, 204)  # the code as sent (CreateOrUpdateAssetsAction)

    def _violations(
        self, attributes: dict[str, AssetAttributeSpec], values: dict[str, Any]
    ) -> list[dict[str, str]]:
        """The business-rule violations of the values (the asset manager's validators)."""
        catalog = self.catalog
        found: list[dict[str, str]] = []

        def add(attribute: str, message: str) -> None:
            found.append({"property": f"values.{attribute}", "message": message})

        for code, entries in values.items():
            spec = attributes[code]
            for entry in entries:
                locale, channel, data = entry["locale"], entry["channel"], entry["data"]
                if spec.localizable and locale is None:
                    add(
                        code,
                        f'A locale is expected for attribute "{code}" because it has a value '
                        "per locale.",
                    )
                elif not spec.localizable and locale is not None:
                    add(
                        code,
                        f'A locale is not expected for attribute "{code}" because it has not '
                        "a value per locale.",
                    )
                elif locale is not None and locale not in catalog.active_locales:
                    add(code, f'The locale "{locale}" is not activated.')
                if spec.scopable and channel is None:
                    add(
                        code,
                        f'A channel is expected for attribute "{code}" because it has a value '
                        "per channel.",
                    )
                elif not spec.scopable and channel is not None:
                    add(
                        code,
                        f'A channel is not expected for attribute "{code}" because it has not '
                        "a value per channel.",
                    )
                elif channel is not None and channel not in catalog.channel_locales:
                    add(code, f'The channel "{channel}" does not exist.')
                elif (
                    channel is not None
                    and locale is not None
                    and locale in catalog.active_locales
                    and locale not in catalog.channel_locales[channel]
                ):
                    add(
                        code, f'The locale "{locale}" is not activated for the channel "{channel}".'
                    )
                if data in (None, "", []):
                    continue
                found.extend(
                    {"property": f"values.{code}", "message": m}
                    for m in self._data_problems(spec, data)
                )
        return found

    def _data_problems(self, spec: AssetAttributeSpec, data: Any) -> list[str]:
        if spec.type == "media_file":
            media = self.store.asset_media_file(data)
            if media is None:
                return [f'The file "{data}" was not found.']
            if spec.allowed_extensions and media.extension not in spec.allowed_extensions:
                return [
                    f'"{media.extension}" files are not allowed for this attribute. Allowed '
                    f"extensions are: {', '.join(spec.allowed_extensions)}"
                ]
        elif spec.type == "text":
            if spec.max_characters is not None and len(data) > spec.max_characters:
                # UNCONFIRMED text: Symfony's Length constraint
                return [
                    f"This value is too long. It should have {spec.max_characters} characters "
                    "or less."
                ]
        elif spec.type == "number":
            number = to_decimal(data)
            if number is None:
                return ["This field should be a numeric value with the right decimal separator"]
            if not spec.decimals_allowed and number != number.to_integral_value():
                return ["This field should be an integer"]
        elif spec.type == "single_option" and spec.options is not None:
            if data not in spec.options:
                return [f'The option with code "{data}" does not exist for this attribute']
        elif spec.type == "multiple_options" and spec.options is not None:
            missing = [o for o in data if o not in spec.options]
            if missing:
                return [
                    "The following option codes don't exist for this attribute : "
                    f'"{", ".join(php_str(o) for o in missing)}"'
                ]
        return []


def render_asset(
    asset: dict[str, Any],
    attributes: dict[str, AssetAttributeSpec],
    download: Callable[[str], str],
) -> dict[str, Any]:
    """An asset as GET shows it; media-file values get ``_links.download``
    (AddHalDownloadLinkToAssetImages)."""
    values: dict[str, list[dict[str, Any]]] = {}
    for code, entries in asset.get("values", {}).items():
        spec = attributes.get(code)
        shown: list[dict[str, Any]] = []
        for entry in entries:
            item = {"locale": entry["locale"], "channel": entry["channel"], "data": entry["data"]}
            if spec is not None and spec.type == "media_file" and isinstance(entry["data"], str):
                item["_links"] = {"download": {"href": download(entry["data"])}}
            shown.append(item)
        values[code] = shown
    return {
        "code": asset["code"],
        "values": values,
        "created": asset.get("created"),
        "updated": asset.get("updated"),
    }
