"""The PIM's REST API: catalog reads, the collection PATCH and media files, over one session.

One ``AkeneoClient`` wraps one ``requests.Session``. Base URL, timeouts, TLS verification
and the ``User-Agent`` are set once; the token lives in ``auth.AkeneoAuth`` (an
``AuthBase``). Every answer goes through the one classifier (``responses.read_verdict``)
and every call through the one retry policy (``retry.RetryPolicy``, built from
``config.RetrySettings``): what a status means and how long to wait are decided there,
not here. What this module adds per endpoint:

- reads (``list_items``, ``fetch_catalog``) follow ``_links.next``; a refusal raises
  ``TransportError``, a retriable failure that outlasts the policy ``RetriesExhausted``;
- the collection PATCH (``patch_collection``) never raises for a failed batch: each line
  gets a ``LineResult``; only the lines without an answer are sent again; a batch too
  large (413, bare 403) is split in halves;
- media files (``upload_media_file``, ``media_file_exists``) answer with a result too.
"""

from __future__ import annotations

import contextlib
import json
import logging
import random as _random
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from functools import partial
from typing import Any, BinaryIO
from urllib.parse import quote, urlsplit

import orjson
import requests
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from feed_export._version import __version__
from feed_export.akeneo.auth import TOKEN_PATH, AkeneoAuth
from feed_export.akeneo.responses import (
    Action,
    Answers,
    LineResult,
    MediaUpload,
    Verdict,
    answer_key,
    describe_exception,
    line_result,
    read_answers,
    read_limited,
    read_verdict,
    status_phrase,
    unreachable_reason,
)
from feed_export.akeneo.retry import RetryPolicy
from feed_export.akeneo.stats import ClientStats
from feed_export.akeneo.transport import Deadline, GuardedAdapter, request_deadline
from feed_export.config import IDENTIFIER_FIELD, Entity, Settings
from feed_export.errors import (
    AuthenticationError,
    BatchRejected,
    RetriableError,
    RetriesExhausted,
    TransportError,
    quote_body,
)

log = logging.getLogger(__name__)

#: ``authenticate(quick=True)``: a PIM that is down is reported within about 15 s (two
#: connection attempts at most), not after the minute a whole retry policy takes
QUICK_CONNECT_TIMEOUT = 5.0
QUICK_READ_TIMEOUT = 10.0
QUICK_RETRY_WAIT = 1.0

USER_AGENT = f"feed_export/{__version__}"
API_PATH = "/api/rest/v1"
COLLECTION_CONTENT_TYPE = "application/vnd.akeneo.collection+json"
#: Akeneo's maximum page size (akeneo-api.md §6.1)
PAGE_LIMIT = 100
#: the largest page (or other JSON answer) read; a page of 100 items is far smaller
PAGE_BODY_LIMIT = 32 * 1024 * 1024
#: the most pages one list may have (a million items): a PIM whose next links never end
#: is stopped there
MAX_PAGES = 10_000
#: codes per ``search`` filter, and the budget of their URL-encoded length (proxies
#: commonly cap a request line at 8 KiB)
SEARCH_CHUNK = 100
SEARCH_CHUNK_CHARS = 4000
#: catalog lists read at once: Akeneo allows 4 concurrent requests per token
CATALOG_READERS = 4
#: more catalog lists ``fetch_catalog`` reads on demand, by catalog section -> API resource
#: (product groups have no list in the API: a catalog file may list them, the PIM cannot)
CODE_LISTS: dict[str, str] = {
    "categories": "categories",
    "association_types": "association-types",
}
#: the attribute types whose options ``GET /attributes/{code}/options`` lists
SELECT_TYPES = frozenset({"pim_catalog_simpleselect", "pim_catalog_multiselect"})
#: what ``catalog_sections`` may leave out
OPTIONAL_PULLS = (
    "families",
    "family_variants",
    "attribute_options",
    "categories",
    "association_types",
    "product_models",
    "asset_families",
)
_ACCEPT_JSON = {"Accept": "application/json"}
_SEND_JSON = {"Content-Type": "application/json"}
_BARE_403 = (
    "Request refused by the PIM (403 Forbidden, without an Akeneo message; on Akeneo SaaS "
    "this can mean the line is too large)"
)


class _NotFound(Exception):
    """A GET the caller allows to miss was answered 404."""


class _TooLarge(Exception):
    """The PIM refused a whole request for its size: split it."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


class AkeneoClient:
    """The PIM's REST API over one ``requests.Session`` (thread-safe for PATCH calls).

    ``clock``, ``sleep`` and ``random`` are injected (into ``retry``) so tests never wait.
    """

    def __init__(
        self,
        settings: Settings,
        *,
        session: requests.Session | None = None,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
        random: Callable[[], float] = _random.random,
    ) -> None:
        self._base_url = settings.base_url
        self._api = settings.base_url + API_PATH
        self._own_session = session is None
        if session is None:
            session = requests.Session()
            # room for the most batches the sender keeps in flight (concurrency <= 10);
            # its connections obey the whole-request deadline (transport.py)
            adapter = GuardedAdapter(pool_connections=2, pool_maxsize=16)
            session.mount("https://", adapter)
            session.mount("http://", adapter)
        session.headers["User-Agent"] = USER_AGENT
        self._session = session
        self._verify = settings.verify_tls
        #: how every call is retried and timed out; file downloads may share it
        self.retry = RetryPolicy.from_settings(
            settings.retry, clock=clock, sleep=sleep, random=random
        )
        self.stats = ClientStats()
        self._auth = AkeneoAuth(
            settings,
            session,
            timeout=self.retry.timeout,
            clock=clock,
            stats=self.stats,
            deadline=self.retry.request_deadline,
        )
        if not settings.verify_tls:
            log.warning("TLS certificates are not verified (verify_tls is off)")

    def __repr__(self) -> str:
        return f"AkeneoClient(base_url={self._base_url!r})"

    @property
    def base_url(self) -> str:
        """The PIM's address (no trailing slash), e.g. to key caches by PIM."""
        return self._base_url

    def __enter__(self) -> AkeneoClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Close the session if this client created it."""
        if self._own_session:
            self._session.close()

    def authenticate(self, *, quick: bool = False) -> None:
        """Log in with the password grant now (retrying transient failures).

        Raises ``AuthenticationError`` when the PIM refuses the credentials. ``quick`` is the
        start-up check of a run: shorter timeouts and one more try at most, so that a PIM
        that is down is reported within about 15 s; a PIM that cannot be reached raises
        ``RetriableError`` with one plain sentence (which host, what to check).
        """
        if not quick:
            self.retry.run("POST " + TOKEN_PATH, self._auth.login, on_retry=self._count_retry)
            return
        connect, read = self.retry.timeout
        timeout = (min(connect, QUICK_CONNECT_TIMEOUT), min(read, QUICK_READ_TIMEOUT))
        for attempt in (1, 2):
            try:
                self._auth.login(timeout)
                return
            except RetriableError as exc:
                # the token request drops its cause (``from None``); the context keeps it
                cause = exc.__context__
                reason = unreachable_reason(self._base_url, exc, cause, timeout)
                # an answer that never came will not come faster a second time
                if attempt == 2 or isinstance(cause, requests.ReadTimeout):
                    raise RetriableError(reason, exc.status) from None
                log.debug("%s; trying once more in %g s", reason, QUICK_RETRY_WAIT)
                self.stats.add("retries")
                self.retry.sleep(QUICK_RETRY_WAIT)

    # --- catalog --------------------------------------------------------------------

    def fetch_catalog(
        self,
        attribute_codes: Iterable[str] | None = None,
        *,
        families: bool = False,
        family_variants: bool = False,
        lists: Sequence[str] = (),
        asset_families: bool | Iterable[str] = False,
    ) -> dict[str, Any]:
        """The PIM's structure in the catalog-file shape (items without ``_links``).

        ``attribute_codes``: only these attributes (``None``: all of them), searched as
        written (the PIM's code filter is case-sensitive): codes it does not find are
        simply absent. ``families``: add every family (one more list);
        ``family_variants``: and every family's variants (one list per family, each
        item with its ``family``). ``lists``: more of ``CODE_LISTS`` (``categories`` as
        codes, ``association_types`` as items). ``asset_families``: every asset family,
        with the attributes of each (True) or of these (codes, any case); a PIM without
        the asset manager (404) leaves both sections out.
        """
        codes = None if attribute_codes is None else list(dict.fromkeys(attribute_codes))
        readers: dict[str, Callable[[], Any]] = {
            "attributes": lambda: self._attributes(codes),
            "channels": lambda: list(self.list_items("channels")),
            "locales": lambda: list(self.list_items("locales")),
            "currencies": lambda: list(self.list_items("currencies")),
            "measurement_families": self._measurement_families,
        }
        if families or family_variants:
            readers["families"] = lambda: list(self.list_items("families"))
        for name in lists:
            if name not in CODE_LISTS:
                raise ValueError(f"unknown catalog list {name!r}; use {sorted(CODE_LISTS)}")
            readers[name] = partial(self._code_list, name)
        catalog = self._read_side_by_side(readers)
        if asset_families is not False:
            catalog.update(self.asset_sections(None if asset_families is True else asset_families))
        if family_variants:
            catalog["family_variants"] = [
                variant
                for found in self._read_side_by_side(
                    {
                        family["code"]: partial(self.family_variants, family["code"])
                        for family in catalog["families"]
                        if isinstance(family.get("code"), str)
                    }
                ).values()
                for variant in found
            ]
        return catalog

    def catalog_sections(
        self, attribute_codes: Iterable[str] | None = None, *, without: Iterable[str] = ()
    ) -> dict[str, Any]:
        """Every section of a catalog file (``catalog.structure.write_catalog``), for a dry
        run to check what the PIM checks; the big ones lazily, page by page: the options
        of the select attributes pulled (codes), and the product models (where each sits).

        ``without``: sections of ``OPTIONAL_PULLS`` to leave out (a PIM with a million
        product models may rather leave them to the push).
        """
        skip = set(without)
        unknown = skip - set(OPTIONAL_PULLS)
        if unknown:
            raise ValueError(f"unknown catalog sections {sorted(unknown)}; use {OPTIONAL_PULLS}")
        lists = [name for name in ("categories", "association_types") if name not in skip]
        sections: dict[str, Any] = self.fetch_catalog(
            attribute_codes,
            families="families" not in skip,
            family_variants="family_variants" not in skip,
            lists=lists,
            asset_families="asset_families" not in skip,
        )
        if "families" in skip:
            sections.pop("families", None)
        if "attribute_options" not in skip:
            sections["attribute_options"] = {
                item["code"]: self.option_codes(item["code"])
                for item in sections["attributes"]
                if item.get("type") in SELECT_TYPES and isinstance(item.get("code"), str)
            }
        if "product_models" not in skip:
            sections["product_models"] = self.product_models()
        return sections

    def asset_sections(self, wanted: Iterable[str] | None = None) -> dict[str, Any]:
        """``asset_families`` (every one) and the ``asset_attributes`` of those ``wanted``
        (codes, any case; None: of every family). Empty when the PIM has no asset manager:
        the sections are then unknown, not empty."""
        families = self.asset_families()
        if families is None:
            return {}
        chosen = None if wanted is None else {str(code).casefold() for code in wanted}
        codes = [
            item["code"]
            for item in families
            if isinstance(item.get("code"), str)
            and (chosen is None or item["code"].casefold() in chosen)
        ]
        attributes = self._read_side_by_side(
            {code: partial(self.asset_attributes, code) for code in codes}
        )
        return {"asset_families": families, "asset_attributes": attributes}

    def fetch_options(self, attribute_codes: Iterable[str]) -> dict[str, list[str]]:
        """The option codes of each of these (select) attributes, read side by side."""
        return self._read_side_by_side(
            {code: partial(self._option_list, code) for code in attribute_codes}
        )

    def _option_list(self, attribute_code: str) -> list[str]:
        return list(self.option_codes(attribute_code))

    def option_codes(self, attribute_code: str) -> Iterator[str]:
        """One attribute's option codes, page by page (``GET /attributes/{code}/options``)."""
        path = f"attributes/{quote(attribute_code, safe='')}/options"
        for item in self.list_items(path):
            code = item.get("code")
            if isinstance(code, str):
                yield code

    def family_variants(self, family_code: str) -> list[dict[str, Any]]:
        """One family's variants, each with its ``family`` (the API puts it in the URL)."""
        path = f"families/{quote(family_code, safe='')}/variants"
        return [{**item, "family": family_code} for item in self.list_items(path)]

    def product_models(
        self, codes: Iterable[str] | None = None, *, lookups: int = 100
    ) -> Iterator[dict[str, Any]]:
        """Where product models sit: ``{code, family_variant, parent}`` each (no values).

        ``codes``: only these, searched by code in chunks, then each code the search did
        not find (it may be written in another case) read on its own, up to ``lookups``
        of them; the rest are taken as absent. ``None``: every product model, page by
        page (``search_after``).
        """
        if codes is None:
            params = {"pagination_type": "search_after"}
            for item in self.list_items("product-models", params):
                yield _model_place(item)
            return
        wanted = list(dict.fromkeys(codes))
        found: set[str] = set()
        for chunk in _chunk_codes(wanted):
            search = orjson.dumps({"identifier": [{"operator": "IN", "value": chunk}]}).decode()
            for item in self.list_items("product-models", {"search": search}):
                place = _model_place(item)
                found.add(place["code"].casefold())
                yield place
        for code in [c for c in wanted if c.casefold() not in found][:lookups]:
            one = self._get_one(f"product-models/{quote(code, safe='')}")
            if one is not None:
                yield _model_place(one)

    def _get_one(self, path: str) -> dict[str, Any] | None:
        """One resource, or None when the PIM answers 404."""
        url = f"{self._api}/{path}"
        try:
            data = self._get_json(url, None, missing_ok=True)
        except _NotFound:
            return None
        return data if isinstance(data, dict) else None

    def _attributes(self, codes: list[str] | None) -> list[dict[str, Any]]:
        if codes is None:
            return list(self.list_items("attributes"))
        attributes: list[dict[str, Any]] = []
        for chunk in _chunk_codes(codes):
            search = orjson.dumps({"code": [{"operator": "IN", "value": chunk}]}).decode()
            attributes.extend(self.list_items("attributes", {"search": search}))
        return attributes

    def _code_list(self, resource: str) -> list[Any]:
        url_name = CODE_LISTS[resource]
        items = self.list_items(url_name)
        if resource == "association_types":
            return [
                {"code": item["code"], "is_quantified": bool(item.get("is_quantified"))}
                for item in items
                if isinstance(item.get("code"), str)
            ]
        return [item["code"] for item in items if isinstance(item.get("code"), str)]

    def _read_side_by_side(self, readers: Mapping[str, Callable[[], Any]]) -> dict[str, Any]:
        """Call independent readers at once (at most ``CATALOG_READERS``), in their order.

        A distant PIM then costs about one round trip per CATALOG_READERS lists instead of
        one per list (the first request logs in; the others wait for its token). The
        first failure in ``readers``' order is the one raised, as when read one by one.
        """
        if not readers:
            return {}
        pool = ThreadPoolExecutor(
            max_workers=CATALOG_READERS, thread_name_prefix="feed_export-catalog"
        )
        try:
            futures = {name: pool.submit(read) for name, read in readers.items()}
            return {name: future.result() for name, future in futures.items()}
        finally:
            pool.shutdown(wait=True, cancel_futures=True)

    def list_items(
        self,
        resource: str,
        params: Mapping[str, str] | None = None,
        *,
        missing_ok: bool = False,
    ) -> Iterator[dict[str, Any]]:
        """Every item of a paginated list, following ``_links.next`` (items lose ``_links``).

        Stops when there is no next link or a page is empty: Akeneo gives a next link
        whenever a page is full, so the last page may be empty (akeneo-api.md §6.1). A
        next link seen before, one outside the list's path, or more than ``MAX_PAGES``
        pages raise ``TransportError``; each page is read within ``PAGE_BODY_LIMIT``.
        ``missing_ok``: a first page answered 404 raises ``_NotFound`` (the caller tells
        a list the PIM does not have from an empty one).
        """
        for page in self.list_pages(resource, params, missing_ok=missing_ok):
            yield from page

    def list_pages(
        self,
        resource: str,
        params: Mapping[str, str] | None = None,
        *,
        missing_ok: bool = False,
    ) -> Iterator[list[dict[str, Any]]]:
        """``list_items`` a page at a time: each page's items (without ``_links``), in order.

        A pull writes one page while the next is read (``pull.pages``); the rules and
        bounds are ``list_items``'s.
        """
        url: str | None = f"{self._api}/{resource}"
        list_path = _path_of(f"{self._api}/{resource}")
        query: dict[str, str] | None = {"limit": str(PAGE_LIMIT), **(params or {})}
        seen: set[str] = set()
        pages = 0
        while url is not None:
            pages += 1
            if pages > MAX_PAGES:
                raise TransportError(
                    f"GET {list_path}: more than {MAX_PAGES:,} pages; the PIM's next-page "
                    "links do not end"
                )
            parsed = self._page(url, query, missing_ok=missing_ok and pages == 1)
            for item in parsed.embedded.items:
                item.pop("_links", None)
            if parsed.embedded.items:
                yield parsed.embedded.items
            next_href = parsed.links.next.href if parsed.links.next else None
            if not parsed.embedded.items or not next_href:
                break
            # follow the link's path and query on *our* base URL: a PIM behind a proxy may
            # advertise an internal host, and the bearer token must go nowhere else
            url = self._same_origin(next_href)
            next_path = _path_of(url)
            if next_path != list_path and not next_path.startswith(list_path + "/"):
                raise TransportError(
                    f"GET {list_path}: the PIM's next-page link leads elsewhere "
                    f"({quote_body(_path_of(url), 120)})"
                )
            if url in seen:
                raise TransportError(f"GET {_path_of(url)}: the PIM's next-page link loops")
            seen.add(url)
            query = None

    def count_items(self, resource: str, params: Mapping[str, str] | None = None) -> int | None:
        """How many items a list holds (``with_count``: one offset page of one item).

        None when the PIM does not say. ``search_after`` pages carry no count
        (akeneo-api.md §6.1), so a pull asks this once, beside its first page, for the
        total its progress shows.
        """
        query = {**(params or {}), "limit": "1", "with_count": "true"}
        query.pop("pagination_type", None)
        parsed = self._page(f"{self._api}/{resource}", query)
        count = parsed.items_count
        return count if isinstance(count, int) and not isinstance(count, bool) else None

    def _page(
        self, url: str, query: Mapping[str, str] | None, *, missing_ok: bool = False
    ) -> _Page:
        """One list page, checked to be an Akeneo page (``TransportError`` if not);
        ``missing_ok`` as ``_get_json``'s."""
        page = self._get_json(url, query, missing_ok=missing_ok)
        if not isinstance(page, dict):
            raise TransportError(
                f"GET {_path_of(url)}: expected a page of items, got {type(page).__name__}"
            )
        try:
            return _Page.model_validate(page)
        except ValidationError:
            shown = quote_body(orjson.dumps(page).decode())
            raise TransportError(f"GET {_path_of(url)}: not an Akeneo list page: {shown}") from None

    def delete_item(self, entity: Entity, key: str) -> LineResult:
        """``DELETE /products/{identifier}`` (``/products-uuid/{uuid}``,
        ``/product-models/{code}``): 204 when deleted, else the PIM's status and message.

        Never raises but ``AuthenticationError``. A transient failure is retried: a
        DELETE is idempotent, and a 404 to a retry whose first attempt may have gone
        through is taken as deleted (204, said in the message). A product model is
        deleted with its children (the API reference).
        """
        url = f"{self._api}/{entity}/{quote(key, safe='')}"
        path = f"{API_PATH}/{entity}"
        tried = 0

        def once() -> LineResult:
            nonlocal tried
            tried += 1
            with self._deadline(f"DELETE {path}"):
                response, verdict = self._exchange("DELETE", url, headers=_ACCEPT_JSON)
                response.close()
            if verdict.action is Action.SUCCESS:
                return LineResult(verdict.status, "")
            if verdict.status == 404 and tried > 1:
                return LineResult(204, "deleted (the first attempt went through)")
            return LineResult(verdict.status, verdict.reason)

        try:
            return self.retry.run(f"DELETE {path}", once, on_retry=self._count_retry)
        except RetriesExhausted as exc:
            return LineResult(exc.status, str(exc))

    def download_media(self, code: str, out: BinaryIO, *, limit: int) -> int:
        """``GET /media-files/{code}/download`` into ``out``; the bytes written.

        ``TransportError`` when the PIM refuses it (404: no such file) or the file is
        larger than ``limit`` bytes; transient failures are retried (``out`` is
        rewound and emptied before each attempt).
        """
        url = f"{self._api}/media-files/{quote(code, safe='/')}/download"
        what = f"GET {API_PATH}/media-files/.../download"

        def once() -> int:
            out.seek(0)
            out.truncate()
            with self._deadline(what):
                response, verdict = self._exchange("GET", url, stream=True)
                if verdict.action is not Action.SUCCESS:
                    raise TransportError(f"{what}: {verdict.message}")
                written = 0
                with response:
                    try:
                        for chunk in response.iter_content(64 * 1024):
                            written += len(chunk)
                            if written > limit:
                                raise TransportError(
                                    f"{what}: the file {code!r} is larger than {_size_text(limit)}"
                                )
                            out.write(chunk)
                    except requests.RequestException as exc:
                        raise RetriableError(
                            describe_exception(exc, self.retry.timeout), 0
                        ) from exc
                return written

        return self.retry.run(what, once, on_retry=self._count_retry)

    def _measurement_families(self) -> list[dict[str, Any]]:
        # a plain JSON array, not paginated (akeneo-api.md §6.6)
        data = self._get_json(f"{self._api}/measurement-families", None)
        if not isinstance(data, list):
            raise TransportError(f"GET {API_PATH}/measurement-families: expected a JSON array")
        families = [item for item in data if isinstance(item, dict)]
        for item in families:
            item.pop("_links", None)
        return families

    def _same_origin(self, href: str) -> str:
        parts = urlsplit(href)
        base = urlsplit(self._base_url)
        return f"{base.scheme}://{base.netloc}{parts.path}" + (
            f"?{parts.query}" if parts.query else ""
        )

    def _get_json(
        self, url: str, params: Mapping[str, str] | None, *, missing_ok: bool = False
    ) -> Any:
        path = _path_of(url)

        def once() -> Any:
            with self._deadline(f"GET {path}"):
                response, verdict = self._exchange(
                    "GET", url, params=params, headers=_ACCEPT_JSON, stream=True
                )
                if missing_ok and verdict.status == 404:
                    raise _NotFound(path)
                if verdict.action is Action.SUCCESS:
                    with response:
                        content = self._read_body(response, f"GET {path}")
            if verdict.action is Action.SUCCESS:
                try:
                    return orjson.loads(content)
                except orjson.JSONDecodeError:
                    text = content[:1000].decode("utf-8", "replace")
                    shown = quote_body(self._auth.redact(text), 200)
                    raise TransportError(
                        f"GET {path}: the PIM did not answer with JSON ({shown})"
                    ) from None
            if verdict.action is Action.REDIRECT:
                raise TransportError(
                    f"GET {path}: redirected to {verdict.location!r}: check AKENEO_BASE_URL"
                )
            raise TransportError(f"GET {path}: {verdict.message}")

        return self.retry.run(f"GET {path}", once, on_retry=self._count_retry)

    # --- collection PATCH -------------------------------------------------------------

    def patch_collection(
        self, entity: Entity, lines: Sequence[bytes], *, create_missing_options: bool = False
    ) -> list[LineResult]:
        """Upsert ``lines`` (one JSON object each) with one collection PATCH.

        Returns one result per input line, in order; never raises for a failed batch
        (its lines carry the status and what was tried) except ``AuthenticationError``.
        """
        if not lines:
            return []
        url = f"{self._api}/{entity}"
        # the PIM only looks for the parameter's presence (openapi: "regardless of value")
        params = {"create_missing_options": "true"} if create_missing_options else None
        return self._patch_lines(url, params, lines, IDENTIFIER_FIELD[entity])

    def _patch_lines(
        self, url: str, params: Mapping[str, str] | None, lines: Sequence[bytes], key_field: str
    ) -> list[LineResult]:
        results: list[LineResult | None] = [None] * len(lines)
        pending = list(range(len(lines)))  # positions still without an answer
        cut_off = False  # the last answer stopped before every pending line had one

        def attempt() -> None:
            nonlocal pending, cut_off
            if cut_off:
                # retried: a collection PATCH is an upsert, so sending a line again is
                # safe; only the lines without an answer go again
                self.stats.add("lines_resent", len(pending))
            cut_off = False
            body = b"\n".join([lines[i] for i in pending])  # no trailing newline (§2.4)
            try:
                answers = self._patch_once(url, params, body, len(pending))
            except _TooLarge as exc:
                self._split(url, params, lines, pending, results, exc, key_field)
                return  # every pending line has its result
            except BatchRejected as exc:
                refused = LineResult(exc.status, str(exc))
                for i in pending:
                    results[i] = refused
                return
            missing = []
            for number, i in enumerate(pending, start=1):
                answer = answers.by_line.get(number)
                if answer is None:
                    missing.append(i)
                    continue
                named = answers.named.get(number)
                if named is not None:
                    answer = _check_named(answer, named, lines[i], key_field, url, number)
                results[i] = answer
            if missing:
                why = f" ({answers.interrupted})" if answers.interrupted else ""
                answered = len(pending) - len(missing)
                pending, cut_off = missing, True
                raise RetriableError(
                    f"the PIM answered {answered} of {answered + len(missing)} lines{why}", 0
                )

        what = f"PATCH {_path_of(url)} ({len(lines)} lines)"
        try:
            self.retry.run(what, attempt, on_retry=self._count_retry)
        except RetriesExhausted as exc:
            prefix = "no answer for this line: " if cut_off else ""
            final = LineResult(exc.status, prefix + exc.summary)
            for i in pending:
                results[i] = final
        return _complete(results)

    def _split(
        self,
        url: str,
        params: Mapping[str, str] | None,
        lines: Sequence[bytes],
        pending: list[int],
        results: list[LineResult | None],
        exc: _TooLarge,
        key_field: str,
    ) -> None:
        """Send the ``pending`` lines again in two halves (each with its own attempts)."""
        if len(pending) == 1:
            results[pending[0]] = LineResult(exc.status, str(exc))
            return
        self.stats.add("batch_splits")
        half = len(pending) // 2
        log.warning("PATCH %s: %s; splitting %d lines in two", _path_of(url), exc, len(pending))
        for part in (pending[:half], pending[half:]):
            answered = self._patch_lines(url, params, [lines[i] for i in part], key_field)
            for i, result in zip(part, answered, strict=True):
                results[i] = result

    def _patch_once(
        self, url: str, params: Mapping[str, str] | None, body: bytes, count: int
    ) -> Answers:
        with request_deadline(self.retry.request_deadline) as deadline:
            try:
                response, verdict = self._exchange(
                    "PATCH",
                    url,
                    params=params,
                    data=body,
                    headers={"Content-Type": COLLECTION_CONTENT_TYPE},
                    # streamed: the lines that arrived before a dropped connection are kept
                    stream=True,
                )
            except RetriableError as exc:
                raise _late(deadline) or exc from None
            if verdict.action is Action.SUCCESS:
                with response:
                    # at most one answer per line sent, each line of bounded length
                    answers = read_answers(response, count)
                if deadline is not None and deadline.expired:
                    answers.interrupted = _late_words(deadline)
                answers.by_line = {
                    n: r if not r.message else LineResult(r.status, self._auth.redact(r.message))
                    for n, r in answers.by_line.items()
                }
                return answers
            late = _late(deadline)
            if late is not None:
                raise late
        status = verdict.status
        if verdict.action is Action.TOO_LARGE:
            if status == 403 and count == 1:
                raise BatchRejected(_BARE_403, 403)
            raise _TooLarge(status, verdict.reason)
        if verdict.action is Action.REDIRECT:
            raise BatchRejected(
                f"Request refused by the PIM ({status_phrase(status)} to "
                f"{verdict.location!r}): check AKENEO_BASE_URL",
                status,
            )
        raise BatchRejected(
            f"Request refused by the PIM ({status_phrase(status)}): {verdict.reason}", status
        )

    # --- media files ------------------------------------------------------------------

    def upload_media_file(
        self,
        target: Mapping[str, Any],
        *,
        model: bool,
        filename: str,
        content: bytes,
        content_type: str,
    ) -> MediaUpload:
        """``POST /media-files``: store a file and set it as one value of a product (model).

        ``target`` is ``{"identifier" (or "code" for a model), "attribute", "scope",
        "locale"}``; the product must exist (akeneo-api.md §7). Returns the media-file code
        (from ``Location``) or the PIM's refusal; transient failures are retried like any
        call. Only ``AuthenticationError`` is raised.
        """
        from urllib3 import encode_multipart_formdata

        part = "product_model" if model else "product"
        body, multipart = encode_multipart_formdata(
            {part: orjson.dumps(dict(target)).decode(), "file": (filename, content, content_type)}
        )
        url = f"{self._api}/media-files"

        def once() -> MediaUpload:
            # a retried upload after a lost answer may store the file twice: the value
            # then names the second copy, which is harmless
            with self._deadline(f"POST {API_PATH}/media-files"):
                response, verdict = self._exchange(
                    "POST", url, data=body, headers={"Content-Type": multipart}, stream=True
                )
                response.close()
            if verdict.action is not Action.SUCCESS:
                return MediaUpload(verdict.status, verdict.reason)
            location = self._auth.redact(response.headers.get("Location") or "")
            _, found, code = location.partition(API_PATH + "/media-files/")
            if found and code:
                return MediaUpload(verdict.status, "", code)
            return MediaUpload(0, f"the PIM stored the file but gave no code ({location!r})")

        try:
            return self.retry.run(f"POST {API_PATH}/media-files", once, on_retry=self._count_retry)
        except RetriesExhausted as exc:
            return MediaUpload(exc.status, str(exc))

    def media_file_exists(self, code: str) -> bool | None:
        """Whether the PIM holds this media-file code (``GET /media-files/{code}``).

        None when it could not tell (a network failure, an unexpected answer).
        """
        url = f"{self._api}/media-files/{quote(code, safe='/')}"
        try:
            with self._deadline(f"GET {API_PATH}/media-files"):
                response, verdict = self._exchange("GET", url, headers=_ACCEPT_JSON, stream=True)
                response.close()
        except RetriableError:
            return None
        return {200: True, 404: False}.get(verdict.status)

    # --- assets (the asset manager) --------------------------------------------------

    def asset_families(self) -> list[dict[str, Any]] | None:
        """Every asset family (``GET /asset-families``, ``search_after`` pages).

        None when the PIM has no asset manager (the list answers 404).
        """
        try:
            return list(self.list_items("asset-families", missing_ok=True))
        except _NotFound:
            return None

    def asset_attributes(self, family: str) -> list[dict[str, Any]]:
        """One asset family's attributes (a plain JSON array, not paginated)."""
        path = f"asset-families/{quote(family, safe='')}/attributes"
        data = self._get_json(f"{self._api}/{path}", None)
        if not isinstance(data, list):
            raise TransportError(f"GET {API_PATH}/{path}: expected a JSON array")
        items = [item for item in data if isinstance(item, dict)]
        for item in items:
            item.pop("_links", None)
        return items

    def asset(self, family: str, code: str) -> dict[str, Any] | None:
        """One asset (``GET /asset-families/{family}/assets/{code}``), None if absent.

        ``TransportError`` when the PIM cannot say.
        """
        return self._get_one(
            f"asset-families/{quote(family, safe='')}/assets/{quote(code, safe='')}"
        )

    def download_asset_media_file(self, code: str, limit: int) -> bytes | None:
        """An asset media file's bytes, or None when it is absent or larger than ``limit``.

        ``TransportError`` (or ``RetriesExhausted``) when the PIM cannot say.
        """
        url = f"{self._api}/asset-media-files/{quote(code, safe='/')}"
        what = f"GET {API_PATH}/asset-media-files"

        def once() -> bytes | None:
            with self._deadline(what):
                response, verdict = self._exchange("GET", url, stream=True)
                if verdict.status == 404:
                    return None
                if verdict.action is not Action.SUCCESS:
                    raise TransportError(f"{what}: {verdict.message}")
                with response:
                    try:
                        return read_limited(response, limit)
                    except requests.RequestException as exc:
                        raise RetriableError(
                            describe_exception(exc, self.retry.timeout), 0
                        ) from exc

        return self.retry.run(what, once, on_retry=self._count_retry)

    def upload_asset_media_file(
        self, *, filename: str, content: bytes, content_type: str
    ) -> MediaUpload:
        """``POST /asset-media-files``: store a file for an asset's media value.

        The code is in the answer's ``Asset-media-file-code`` header (201, empty body).
        Transient failures are retried; only ``AuthenticationError`` is raised.
        """
        from urllib3 import encode_multipart_formdata

        body, multipart = encode_multipart_formdata({"file": (filename, content, content_type)})
        url = f"{self._api}/asset-media-files"
        what = f"POST {API_PATH}/asset-media-files"

        def once() -> MediaUpload:
            # a retried upload after a lost answer may store the file twice: the asset
            # then names the second copy, which is harmless
            with self._deadline(what):
                response, verdict = self._exchange(
                    "POST", url, data=body, headers={"Content-Type": multipart}, stream=True
                )
                response.close()
            if verdict.action is not Action.SUCCESS:
                return MediaUpload(verdict.status, verdict.reason)
            code = response.headers.get("Asset-media-file-code") or ""
            if not code:
                location = response.headers.get("Location") or ""
                code = location.partition(API_PATH + "/asset-media-files/")[2]
            if code:
                return MediaUpload(verdict.status, "", self._auth.redact(code))
            return MediaUpload(0, "the PIM stored the file but gave no Asset-media-file-code")

        try:
            return self.retry.run(what, once, on_retry=self._count_retry)
        except RetriesExhausted as exc:
            return MediaUpload(exc.status, str(exc))

    def patch_assets(self, family: str, lines: Sequence[bytes]) -> list[LineResult]:
        """Upsert assets of ``family`` (one JSON object a line) with one asset collection PATCH.

        The request is a JSON array of at most 100 assets and the answer a JSON array of
        per-asset results (not the products' line stream). One result per line, in
        order; a failed request gives every line its status and what was tried. Resent
        whole after a transient failure: the PATCH is an upsert. A request too large is
        split in halves. Only ``AuthenticationError`` is raised.
        """
        if not lines:
            return []
        url = f"{self._api}/asset-families/{quote(family, safe='')}/assets"
        what = f"PATCH {_path_of(url)} ({len(lines)} assets)"

        def once() -> list[LineResult]:
            body = b"[" + b",".join(lines) + b"]"
            with self._deadline(what):
                response, verdict = self._exchange(
                    "PATCH", url, data=body, headers=_SEND_JSON, stream=True
                )
                if verdict.action is Action.SUCCESS:
                    with response:
                        content = self._read_body(response, what)
            if verdict.action is Action.TOO_LARGE and len(lines) > 1:
                raise _TooLarge(verdict.status, verdict.reason)
            if verdict.action is not Action.SUCCESS:
                refused = LineResult(
                    verdict.status,
                    f"Request refused by the PIM ({status_phrase(verdict.status)}): "
                    f"{verdict.reason}",
                )
                return [refused] * len(lines)
            return self._asset_answers(content, lines, url)

        try:
            return self.retry.run(what, once, on_retry=self._count_retry)
        except _TooLarge:
            self.stats.add("batch_splits")
            half = len(lines) // 2
            return [
                *self.patch_assets(family, lines[:half]),
                *self.patch_assets(family, lines[half:]),
            ]
        except RetriesExhausted as exc:
            return [LineResult(exc.status, exc.summary)] * len(lines)
        except TransportError as exc:
            return [LineResult(0, str(exc))] * len(lines)

    def _asset_answers(self, content: bytes, lines: Sequence[bytes], url: str) -> list[LineResult]:
        """The per-asset results of an asset collection PATCH's answer, in line order."""
        try:
            answers = orjson.loads(content)
        except orjson.JSONDecodeError:
            answers = None
        if not isinstance(answers, list) or len(answers) < len(lines):
            # an answer cut short: nothing tells which assets were applied; resending
            # them all is safe (an upsert)
            got = len(answers) if isinstance(answers, list) else 0
            raise RetriableError(f"the PIM answered {got} of {len(lines)} assets", 0)
        results: list[LineResult] = []
        for number, (line, answer) in enumerate(zip(lines, answers, strict=False), start=1):
            if not isinstance(answer, dict):
                results.append(LineResult(0, "the PIM's answer for this asset is not an object"))
                continue
            result = line_result(answer)
            if result.message:
                result = LineResult(result.status, self._auth.redact(result.message))
            named = answer_key(answer)
            if named is not None:
                result = _check_named(result, named, line, "code", url, number, what="asset")
            results.append(result)
        return results

    # --- one exchange -----------------------------------------------------------------

    def _exchange(
        self,
        method: str,
        url: str,
        *,
        params: Mapping[str, str] | None = None,
        data: bytes | None = None,
        headers: Mapping[str, str] | None = None,
        stream: bool = False,
    ) -> tuple[requests.Response, Verdict]:
        """One authenticated request and the classifier's verdict on its answer.

        A 401 renews the token and sends once more (a second 401 raises
        ``AuthenticationError``). A network failure or a RETRY verdict raises
        ``RetriableError`` (status 0 for the network). On SUCCESS the body is left for the
        caller to read and close; otherwise it is already read and closed.
        """
        renewed = False
        while True:
            try:
                response = self._session.request(
                    method,
                    url,
                    params=params,
                    data=data,
                    headers=headers,
                    auth=self._auth,
                    timeout=self.retry.timeout,
                    verify=self._verify,
                    stream=stream,
                    allow_redirects=False,  # a redirected PATCH may turn into a GET
                )
            except requests.RequestException as exc:
                self.stats.add("requests_sent")
                raise RetriableError(describe_exception(exc, self.retry.timeout), 0) from exc
            self.stats.add("requests_sent")
            log.debug("%s %s -> %d", method, _path_of(url), response.status_code)
            # whatever the PIM (or a proxy) quotes back may echo the token or a secret
            verdict = read_verdict(response, redact=self._auth.redact)
            if verdict.action is Action.RETRY:
                raise verdict.retry_error()
            if verdict.action is not Action.RENEW_TOKEN:
                return response, verdict
            sent = response.request.headers.get("Authorization")
            if renewed:
                message = verdict.pim_message or status_phrase(401)
                raise AuthenticationError(
                    f"the PIM at {self._base_url} refused a freshly renewed access token "
                    f'("{message}"): check that the API user still has API access'
                )
            renewed = True
            self._auth.unauthorized(sent if isinstance(sent, str) else None)

    def _count_retry(self) -> None:
        self.stats.add("retries")

    @contextlib.contextmanager
    def _deadline(self, what: str) -> Iterator[None]:
        """The call inside must end within the request deadline (else ``RetriableError``).

        A deadline that ran out may still leave a truncated answer looking complete (a
        server cut off within its headers): it counts as a failure either way.
        """
        with request_deadline(self.retry.request_deadline) as deadline:
            try:
                yield
            except (RetriableError, TransportError, requests.RequestException) as exc:
                late = _late(deadline)
                if late is None:
                    raise
                raise late from exc
            late = _late(deadline)
            if late is not None:
                raise late

    def _read_body(self, response: requests.Response, what: str) -> bytes:
        """A success body, within ``PAGE_BODY_LIMIT``; ``RetriableError`` if the read fails."""
        try:
            content = read_limited(response, PAGE_BODY_LIMIT)
        except requests.RequestException as exc:
            raise RetriableError(describe_exception(exc, self.retry.timeout), 0) from exc
        if content is None:
            raise TransportError(
                f"{what}: the PIM's answer is larger than {PAGE_BODY_LIMIT // (1024 * 1024)} MB"
            )
        return content


def _late_words(deadline: Deadline) -> str:
    return f"no complete answer within {deadline.seconds:g} s (the request deadline)"


def _late(deadline: Deadline | None) -> RetriableError | None:
    """The error of a request whose deadline ran out, or None."""
    if deadline is None or not deadline.expired:
        return None
    return RetriableError(_late_words(deadline), 0)


class _Link(BaseModel):
    href: str


class _Links(BaseModel):
    model_config = ConfigDict(extra="ignore")
    next: _Link | None = None


class _Embedded(BaseModel):
    items: list[dict[str, Any]]


class _Page(BaseModel):
    model_config = ConfigDict(extra="ignore")
    links: _Links = Field(default_factory=_Links, alias="_links")
    embedded: _Embedded = Field(alias="_embedded")
    items_count: Any = None


def _chunk_codes(codes: Iterable[str]) -> Iterator[list[str]]:
    """Codes in chunks small enough for one ``search`` query string."""
    chunk: list[str] = []
    size = 0
    for code in codes:
        cost = len(quote(code, safe="")) + 9  # the quotes and comma around it, encoded
        if chunk and (len(chunk) >= SEARCH_CHUNK or size + cost > SEARCH_CHUNK_CHARS):
            yield chunk
            chunk, size = [], 0
        chunk.append(code)
        size += cost
    if chunk:
        yield chunk


def _check_named(
    answer: LineResult,
    named: str,
    line: bytes,
    key_field: str,
    url: str,
    number: int,
    *,
    what: str | None = None,
) -> LineResult:
    """``answer`` if it names the key ``line`` was sent with, else an Unknown result.

    An answer matched by its line number alone could give a row another row's verdict
    (a proxy that adds or shifts lines): the key it names must be the line's own.
    Compared case-insensitively, as the PIM compares codes.
    """
    try:
        sent = orjson.loads(line).get(key_field)
    except (orjson.JSONDecodeError, AttributeError):
        return answer  # not an object: the PIM names no key for such a line anyway
    if not isinstance(sent, str) or sent.casefold() == named.casefold():
        return answer
    if what is None:
        what = "product model" if key_field == "code" else "product"
    theirs, ours = _quoted(named), _quoted(sent)
    log.warning(
        "PATCH %s: the answer to line %d names %s %s, but that line sent %s: its row is Unknown",
        _path_of(url),
        number,
        what,
        theirs,
        ours,
    )
    return LineResult(
        0,
        f"Unknown: the PIM's answer named another {what} ({theirs} instead of {ours}); "
        "the PIM may or may not have saved this row",
    )


def _quoted(text: str) -> str:
    return json.dumps(quote_body(text, 80), ensure_ascii=False)


def _model_place(item: Mapping[str, Any]) -> dict[str, Any]:
    """A product model as the catalog keeps it: where it sits, not its values."""
    return {
        "code": item.get("code"),
        "family_variant": item.get("family_variant"),
        "parent": item.get("parent"),
    }


def _complete(results: list[LineResult | None]) -> list[LineResult]:
    done = [r for r in results if r is not None]
    if len(done) != len(results):
        raise AssertionError("a line was left without a result")
    return done


def _path_of(url: str) -> str:
    return urlsplit(url).path


def _size_text(size: int) -> str:
    """A byte count in MB, or KB under one MB: ``2 MB``, ``80 KB``, ``1.5 MB``."""
    if size >= 1024 * 1024:
        return f"{size / (1024 * 1024):g} MB"
    return f"{size / 1024:g} KB"
