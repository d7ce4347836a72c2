"""OAuth tokens of the sandbox PIM: issued, refreshed and checked against an injectable clock.

Tokens live in memory only: after a restart every old token is "invalid", as after a
token purge on a real PIM. Refresh tokens are single-use (oauth2-php unsets a refresh
token once used) and every grant returns a new one.
"""

from __future__ import annotations

import secrets
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

#: Akeneo's default lifetimes (DOC-AUTH): one hour, fourteen days
ACCESS_TOKEN_LIFETIME = 3600
REFRESH_TOKEN_LIFETIME = 1_209_600

TokenState = Literal["valid", "invalid", "expired"]


@dataclass(frozen=True, slots=True)
class _Grant:
    client_id: str
    expires_at: float


class TokenStore:
    """Access and refresh tokens, with their expiry read from ``clock``."""

    def __init__(
        self,
        clock: Callable[[], float],
        lifetime: int = ACCESS_TOKEN_LIFETIME,
        refresh_lifetime: int = REFRESH_TOKEN_LIFETIME,
    ) -> None:
        self.clock = clock
        self.lifetime = lifetime
        self.refresh_lifetime = refresh_lifetime
        self._lock = threading.Lock()
        self._access: dict[str, _Grant] = {}
        self._refresh: dict[str, _Grant] = {}

    def issue(self, client_id: str) -> dict[str, Any]:
        """A new access token and refresh token, in the token endpoint's response shape."""
        now = self.clock()
        access = secrets.token_urlsafe(48)
        refresh = secrets.token_urlsafe(48)
        with self._lock:
            self._access[access] = _Grant(client_id, now + self.lifetime)
            self._refresh[refresh] = _Grant(client_id, now + self.refresh_lifetime)
        return {
            "access_token": access,
            "expires_in": self.lifetime,
            "token_type": "bearer",
            "scope": None,
            "refresh_token": refresh,
        }

    def refresh(self, refresh_token: str, client_id: str) -> dict[str, Any] | None:
        """New tokens for a valid refresh token (used up), or None."""
        with self._lock:
            grant = self._refresh.pop(refresh_token, None)
        if grant is None or grant.client_id != client_id or grant.expires_at <= self.clock():
            return None
        return self.issue(client_id)

    def check(self, access_token: str) -> TokenState:
        with self._lock:
            grant = self._access.get(access_token)
        if grant is None:
            return "invalid"
        return "valid" if self.clock() < grant.expires_at else "expired"

    def revoke_all(self) -> None:
        """Forget every token (a test can simulate a revoked connection)."""
        with self._lock:
            self._access.clear()
            self._refresh.clear()
