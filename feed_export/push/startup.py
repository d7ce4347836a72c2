"""Before anything is sent: the PIM answers, accepts the login, and its catalog is read.

A run that cannot start sends nothing and writes nothing (no feedback file is created or
replaced): these checks come before any output is opened, and fail with ``StartupError``
(exit 2), one sentence that names the PIM's host and what to check. The login is the
client's quick check (short timeouts, one more try at most): a PIM that is down is
reported within about 15 s, not after the minute a whole retry policy would take.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from feed_export.catalog.structure import Catalog
from feed_export.config import pim_host
from feed_export.errors import RunAborted, StartupError, TransportError
from feed_export.feed.headers import header_attribute_codes

if TYPE_CHECKING:
    from feed_export.akeneo.client import AkeneoClient
    from feed_export.push.interrupt import Interrupt


def log_in(client: AkeneoClient, interrupt: Interrupt | None = None) -> None:
    """The client's quick login; ``StartupError`` when the PIM cannot be used."""
    try:
        client.authenticate(quick=True)
    except TransportError as exc:
        raise StartupError(str(exc)) from exc
    _check_interrupt(interrupt)


def read_catalog(
    client: AkeneoClient, header: tuple[str, ...], interrupt: Interrupt | None = None
) -> Catalog:
    """The PIM's catalog for this header; ``StartupError`` when it cannot be read."""
    try:
        catalog = Catalog.from_dict(client.fetch_catalog(header_attribute_codes(header)))
    except TransportError as exc:
        raise StartupError(
            f"could not read the catalog of the PIM at {pim_host(client.base_url)}: {exc}"
        ) from exc
    _check_interrupt(interrupt)
    return catalog


def _check_interrupt(interrupt: Interrupt | None) -> None:
    if interrupt is not None and interrupt.requested:
        raise RunAborted("interrupted before anything was sent; nothing was written")
