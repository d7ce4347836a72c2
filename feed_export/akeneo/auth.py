"""Logging in to the PIM: the OAuth token in a ``requests`` ``AuthBase``, and secret redaction.

``AkeneoAuth`` asks ``/api/oauth/v1/token`` for a token (password grant), renews it with
the refresh token shortly before it expires and once after a 401, and puts it on every
request as ``Authorization: Bearer ...``. ``secret_forms`` lists every form in which the
secret and the password travel, and ``AkeneoAuth.redact`` takes them and the tokens out of
any text the PIM sends back, so that no message or log line shows one.

How a secret is found in a text (``redact_text``): one of ``MIN_SUBSTRING`` characters or
more is replaced wherever it occurs; a shorter one only where it stands alone (no letter
or digit right before or after it), so that a one-letter password ``d`` does not turn
``404 Not Found`` into ``404 Not Foun***`` while ``"password":"d"`` still loses it.
"""

from __future__ import annotations

import base64
import contextlib
import json
import logging
import re
import threading
from collections.abc import Callable, Iterable
from urllib.parse import quote, quote_plus

import requests
from pydantic import BaseModel, ConfigDict, ValidationError
from requests.auth import AuthBase, HTTPBasicAuth

from feed_export.akeneo.responses import (
    Action,
    Verdict,
    describe_exception,
    read_limited,
    read_verdict,
)
from feed_export.akeneo.stats import ClientStats
from feed_export.akeneo.transport import request_deadline
from feed_export.config import Settings
from feed_export.errors import AuthenticationError, RetriableError

log = logging.getLogger(__name__)

TOKEN_PATH = "/api/oauth/v1/token"
#: renew the access token this long before ``expires_in`` runs out (at most 10 % of it)
REFRESH_MARGIN = 60.0
#: the largest token answer read (a token is a few hundred bytes)
TOKEN_BODY_LIMIT = 64 * 1024
#: secrets at least this long are redacted wherever they occur; shorter ones as whole words
MIN_SUBSTRING = 8
_TOKEN_HINTS = (
    (
        '"client_id"',
        "check AKENEO_CLIENT_ID and AKENEO_CLIENT_SECRET (the API connection's id and secret)",
    ),
    ("No user found", "check AKENEO_USERNAME and AKENEO_PASSWORD (the API connection's user)"),
    ("grant type is not authorized", "the API connection does not allow the password grant"),
    ('"username" or "password"', "AKENEO_USERNAME and AKENEO_PASSWORD must both be set"),
)


class _TokenAnswer(BaseModel):
    model_config = ConfigDict(extra="ignore")

    access_token: str
    expires_in: float = 3600.0
    refresh_token: str | None = None


class _GrantRejected(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


class AkeneoAuth(AuthBase):
    """Bearer token for the REST API, obtained and renewed on ``/api/oauth/v1/token``.

    Password grant first; afterwards the newest refresh token is used, shortly before the
    access token expires and once after a 401. A rejected refresh falls back to the password
    grant; rejected credentials raise ``AuthenticationError``. One lock: when several
    batches need a token at once, one thread asks and the others wait and reuse it.
    """

    def __init__(
        self,
        settings: Settings,
        session: requests.Session,
        *,
        timeout: tuple[float, float],
        clock: Callable[[], float],
        stats: ClientStats,
        deadline: float | None = None,
    ) -> None:
        self._base_url = settings.base_url
        self._url = settings.base_url + TOKEN_PATH
        self._client_id = settings.client_id
        self._client_secret = settings.client_secret
        self._username = settings.username
        self._password = settings.password
        self._verify = settings.verify_tls
        self._session = session
        self._timeout = timeout
        self._deadline = deadline
        self._clock = clock
        self._stats = stats
        self._lock = threading.Lock()
        self._access_token: str | None = None
        self._refresh_token: str | None = None
        self._renew_at = 0.0
        # set (under the lock) once the PIM refused the credentials: every later caller
        # raises at once instead of trying the password again (one refusal per run)
        self._refused: str | None = None
        self._secret_forms = secret_forms(
            settings.client_id,
            settings.client_secret.get_secret_value(),
            settings.password.get_secret_value(),
        )

    def __repr__(self) -> str:  # never the secret, the password or a token
        return (
            f"AkeneoAuth(base_url={self._base_url!r}, client_id={self._client_id!r}, "
            f"username={self._username!r})"
        )

    def __call__(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
        request.headers["Authorization"] = "Bearer " + self.token()
        return request

    def token(self) -> str:
        """A valid access token, asking the PIM for one when needed."""
        with self._lock:
            if self._refused is not None:
                raise AuthenticationError(self._refused)
            if self._access_token is None:
                self._login()
            elif self._clock() >= self._renew_at:
                log.debug("access token about to expire: renewing it")
                self._refresh()
            assert self._access_token is not None
            return self._access_token

    def login(self, timeout: tuple[float, float] | None = None) -> None:
        """Password grant now, whatever the current token (``AkeneoClient.authenticate``).

        ``timeout``: (connect, read) for this one request instead of the client's.
        """
        with self._lock:
            self._login(timeout)

    def unauthorized(self, sent: str | None) -> None:
        """The PIM answered 401 to a request that carried the header ``sent``.

        Renew the token unless another thread already did since that request left.
        """
        with self._lock:
            if self._access_token is None or sent == "Bearer " + self._access_token:
                log.info("the PIM refused the access token (401): renewing it")
                self._refresh()

    def _login(self, timeout: tuple[float, float] | None = None) -> None:
        if self._refused is not None:
            raise AuthenticationError(self._refused)
        self._stats.add("auth_logins")
        try:
            self._grant(
                {
                    "grant_type": "password",
                    "username": self._username,
                    "password": self._password.get_secret_value(),
                },
                timeout,
            )
        except _GrantRejected as exc:
            raise self._refuse(exc) from None

    def _refresh(self) -> None:
        if self._refused is not None:
            raise AuthenticationError(self._refused)
        if self._refresh_token is None:
            self._login()
            return
        self._stats.add("auth_refreshes")
        try:
            self._grant({"grant_type": "refresh_token", "refresh_token": self._refresh_token})
        except _GrantRejected as exc:
            if exc.status != 422:
                raise self._refuse(exc) from None
            log.info("the PIM refused the refresh token (%s): logging in again", exc.message)
            self._refresh_token = None
            self._login()

    def _grant(self, body: dict[str, str], timeout: tuple[float, float] | None = None) -> None:
        """One token request; stores the token or raises _GrantRejected / RetriableError."""
        started = self._clock()
        # a quick login's timeouts bound the whole request too
        limit = self._deadline if timeout is None else sum(timeout)
        if self._deadline is not None:
            limit = min(limit, self._deadline) if limit is not None else self._deadline
        timeout = timeout or self._timeout
        with request_deadline(limit) as deadline:
            try:
                verdict, text = self._ask(body, timeout)
            except RetriableError:
                if deadline is not None and deadline.expired:
                    raise RetriableError(
                        f"token request: no complete answer within {deadline.seconds:g} s", 0
                    ) from None
                raise
            if deadline is not None and deadline.expired:
                raise RetriableError(
                    f"token request: no complete answer within {deadline.seconds:g} s", 0
                )
        if verdict.action is Action.RETRY:
            raise verdict.retry_error("token request: ")
        if verdict.action is not Action.SUCCESS:
            raise _GrantRejected(verdict.status, verdict.reason)
        try:
            answer = _TokenAnswer.model_validate_json(text or b"")
        except ValidationError:
            raise AuthenticationError(
                f"the PIM at {self._base_url} answered the token request ({verdict.status}) "
                "without a token: is AKENEO_BASE_URL the address of an Akeneo PIM?"
            ) from None
        self._access_token = answer.access_token
        if answer.refresh_token:
            self._refresh_token = answer.refresh_token  # Akeneo issues a new one each time
        margin = min(REFRESH_MARGIN, answer.expires_in * 0.1)
        self._renew_at = started + answer.expires_in - margin

    def _ask(
        self, body: dict[str, str], timeout: tuple[float, float]
    ) -> tuple[Verdict, bytes | None]:
        """The token request, its verdict and (on success) its body, read within a cap."""
        try:
            response = self._session.post(
                self._url,
                json=body,
                # client id and secret go in a Basic header (akeneo-api.md §1.1)
                auth=HTTPBasicAuth(self._client_id, self._client_secret.get_secret_value()),
                headers={"Accept": "application/json"},
                timeout=timeout,
                verify=self._verify,
                allow_redirects=False,
                stream=True,
            )
        except requests.RequestException as exc:
            raise RetriableError(f"token request: {describe_exception(exc, timeout)}", 0) from None
        finally:
            self._stats.add("requests_sent")
        # a PIM or a proxy may echo the request (JSON body, Basic header) in its answer:
        # the verdict's words are redacted, before and after the body is described
        verdict = read_verdict(response, redact=self.redact)
        if verdict.action is not Action.SUCCESS:
            return verdict, None
        with response:
            try:
                text = read_limited(response, TOKEN_BODY_LIMIT)
            except requests.RequestException as exc:
                raise RetriableError(
                    f"token request: {describe_exception(exc, timeout)}", 0
                ) from None
        if text is None:
            raise AuthenticationError(
                f"the PIM at {self._base_url} answered the token request with more than "
                f"{TOKEN_BODY_LIMIT // 1024} KB: is AKENEO_BASE_URL the address of an Akeneo PIM?"
            )
        return verdict, text

    def _rejection(self, exc: _GrantRejected) -> str:
        hint = "check the API connection settings"
        if exc.status == 404:
            hint = "is AKENEO_BASE_URL the address of an Akeneo PIM?"
        else:
            for needle, text in _TOKEN_HINTS:
                if needle in exc.message:
                    hint = text
                    break
        return (
            f'the PIM at {self._base_url} refused to log in ({exc.status}: "{exc.message}"): {hint}'
        )

    def _refuse(self, exc: _GrantRejected) -> AuthenticationError:
        """Remember that the PIM refused the credentials; the error to raise."""
        self._refused = self._rejection(exc)
        return AuthenticationError(self._refused)

    def redact(self, text: str) -> str:
        """``text`` with every form of the secret, the password and the tokens as ``***``."""
        tokens = [t for t in (self._access_token, self._refresh_token) if t]
        return redact_text(text, (*self._secret_forms, *tokens))


def redact_text(text: str, secrets: Iterable[str]) -> str:
    """``text`` with each of ``secrets`` as ``***`` (see the module's rule on short ones).

    >>> redact_text("404 Not Found; password=d", ["d"])
    '404 Not Found; password=***'
    """
    for secret in sorted({s for s in secrets if s}, key=len, reverse=True):
        if secret not in text:
            continue
        if len(secret) >= MIN_SUBSTRING:
            text = text.replace(secret, "***")
        else:
            alone = rf"(?<![0-9A-Za-z]){re.escape(secret)}(?![0-9A-Za-z])"
            text = re.sub(alone, "***", text)
    return text


def secret_forms(client_id: str, secret: str, password: str) -> tuple[str, ...]:
    """Every form in which the token request carries the secret or the password.

    As is; JSON-escaped (the request body is JSON: ``requests`` escapes non-ASCII, PHP
    escapes ``/`` too); URL-encoded (form bodies, query strings); and the Basic header's
    base64 of ``client_id:secret``. Longest first, so a form is replaced before a part of it.
    """
    forms: set[str] = set()
    for value in (secret, password):
        if not value:
            continue
        forms |= {
            value,
            json.dumps(value)[1:-1],
            json.dumps(value, ensure_ascii=False)[1:-1],
            json.dumps(value)[1:-1].replace("/", "\\/"),  # PHP's json_encode escapes "/"
            quote(value, safe=""),
            quote_plus(value),
        }
    if secret:
        pair = f"{client_id}:{secret}"
        for encoding in ("latin-1", "utf-8"):  # requests encodes Basic credentials as latin-1
            with contextlib.suppress(UnicodeEncodeError):
                forms.add(base64.b64encode(pair.encode(encoding)).decode("ascii"))
    return tuple(sorted(forms, key=len, reverse=True))
