"""Notion's OAuth endpoints through authlib's httpx OAuth 2 client.

Notion wants the token request as JSON (not form-encoded) with HTTP Basic client authentication,
returns errors as ``{"object": "error", "code", "message"}`` (no ``error`` member, so authlib would
take them for a token), rotates refresh tokens, and has no ``expires_in``. :class:`NotionOAuthClient`
adapts authlib to exactly that; :class:`NotionOAuth` is the small API the flows use.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

import httpx2
from authlib.common.urls import url_decode
from authlib.integrations.httpx_client import AsyncOAuth2Client
from authlib.integrations.base_client.errors import OAuthError

from shared.connections.errors import OAuthExchangeFailed, OAuthInvalidGrant

logger = logging.getLogger(__name__)

# Notion error codes on the token endpoint that mean "this grant is dead", not "try later".
_DEAD_GRANT = {"invalid_grant", "unauthorized", "invalid_client", "restricted_resource"}


@dataclass(frozen=True)
class NotionTokenResponse:
    access_token: str
    refresh_token: str | None
    bot_id: str
    workspace_id: str
    workspace_name: str
    workspace_icon: str | None
    owner: dict[str, Any]
    duplicated_template_id: str | None

    @classmethod
    def from_json(cls, body: dict[str, Any]) -> "NotionTokenResponse":
        try:
            return cls(
                access_token=str(body["access_token"]),
                refresh_token=body.get("refresh_token") or None,
                bot_id=str(body.get("bot_id") or ""),
                workspace_id=str(body.get("workspace_id") or ""),
                workspace_name=str(body.get("workspace_name") or ""),
                workspace_icon=body.get("workspace_icon"),
                owner=body.get("owner") if isinstance(body.get("owner"), dict) else {},
                duplicated_template_id=body.get("duplicated_template_id"),
            )
        except (KeyError, TypeError):
            raise OAuthExchangeFailed("Notion's token response was not understood.") from None

    def __repr__(self) -> str:  # never show tokens
        return f"NotionTokenResponse(workspace_id={self.workspace_id!r}, bot_id={self.bot_id!r})"


class _NotionError(Exception):
    def __init__(self, status: int, code: str) -> None:
        super().__init__(code)
        self.status = status
        self.code = code


def _check(resp: httpx2.Response) -> httpx2.Response:
    if resp.status_code >= 400:
        try:
            body = resp.json()
            code = str(body.get("code") or body.get("error") or "error")
        except ValueError:
            code = "error"
        raise _NotionError(resp.status_code, code)
    return resp


class NotionOAuthClient(AsyncOAuth2Client):
    """authlib's async client speaking Notion's dialect: JSON bodies and Notion error bodies."""

    async def _fetch_token(self, url, body="", headers=None, auth=None, method="POST", **kwargs):
        resp = _check(await self.post(url, json=dict(url_decode(body)), headers=_json_headers(headers), auth=auth, **kwargs))
        return self.parse_response_token(resp)

    async def _refresh_token(self, url, refresh_token=None, body="", headers=None, auth=None, **kwargs):
        resp = _check(await self.post(url, json=dict(url_decode(body)), headers=_json_headers(headers), auth=auth, **kwargs))
        return self.parse_response_token(resp)

    def _http_post(self, url, body=None, auth=None, headers=None, **kwargs):
        return self.post(url, json=dict(url_decode(body or "")), headers=_json_headers(headers), auth=auth, **kwargs)


def _json_headers(headers: dict[str, str] | None) -> dict[str, str]:
    merged = {k: v for k, v in (headers or {}).items() if k.lower() != "content-type"}
    merged["Content-Type"] = "application/json"
    merged["Accept"] = "application/json"
    return merged


class NotionOAuth:
    """Authorize URL, code exchange, refresh, revoke and introspect against ``{base}/v1/oauth/*``."""

    def __init__(self, *, client_id: str, client_secret: str, base_url: str = "https://api.notion.com",
                 transport: httpx2.AsyncBaseTransport | None = None, timeout: float = 20.0) -> None:
        self.client_id = client_id
        self._client_secret = client_secret
        self.base_url = base_url.rstrip("/")
        self._transport = transport
        self._timeout = timeout

    @classmethod
    def from_settings(cls, settings: Any, **kwargs: Any) -> "NotionOAuth":
        return cls(client_id=settings.notion_client_id.get_secret_value(),
                   client_secret=settings.notion_client_secret.get_secret_value(),
                   base_url=settings.notion_api_base, **kwargs)

    def _client(self) -> NotionOAuthClient:
        return NotionOAuthClient(client_id=self.client_id, client_secret=self._client_secret,
                                 token_endpoint_auth_method="client_secret_basic",
                                 revocation_endpoint_auth_method="client_secret_basic",
                                 transport=self._transport, timeout=self._timeout)

    def authorize_url(self, *, state: str, redirect_uri: str) -> str:
        query = urlencode({"client_id": self.client_id, "response_type": "code", "owner": "user",
                           "redirect_uri": redirect_uri, "state": state})
        return f"{self.base_url}/v1/oauth/authorize?{query}"

    async def exchange_code(self, code: str, *, redirect_uri: str) -> NotionTokenResponse:
        async with self._client() as client:
            try:
                token = await client.fetch_token(f"{self.base_url}/v1/oauth/token", grant_type="authorization_code",
                                                 code=code, redirect_uri=redirect_uri)
            except _NotionError as error:
                logger.warning("Notion refused the code exchange: %s (HTTP %s)", error.code, error.status)
                raise OAuthExchangeFailed() from None
            except (OAuthError, httpx2.HTTPError, ValueError) as error:
                logger.warning("Notion code exchange failed: %s", type(error).__name__)
                raise OAuthExchangeFailed() from None
        return NotionTokenResponse.from_json(dict(token))

    async def refresh(self, refresh_token: str) -> NotionTokenResponse:
        """A new pair for ``refresh_token`` (which Notion then invalidates: store the new pair)."""
        async with self._client() as client:
            try:
                token = await client.refresh_token(f"{self.base_url}/v1/oauth/token", refresh_token=refresh_token)
            except _NotionError as error:
                logger.warning("Notion refused the refresh: %s (HTTP %s)", error.code, error.status)
                if error.code in _DEAD_GRANT or error.status in (400, 401):
                    raise OAuthInvalidGrant() from None
                raise OAuthExchangeFailed("Notion's sign-in service is unavailable; try again.") from None
            except (OAuthError, httpx2.HTTPError, ValueError) as error:
                logger.warning("Notion refresh failed: %s", type(error).__name__)
                raise OAuthExchangeFailed("Notion's sign-in service is unavailable; try again.") from None
        return NotionTokenResponse.from_json(dict(token))

    async def revoke(self, token: str) -> bool:
        """Revoke ``token`` at Notion; True if Notion confirmed (an already-dead token counts)."""
        async with self._client() as client:
            try:
                resp = await client.revoke_token(f"{self.base_url}/v1/oauth/revoke", token=token)
            except httpx2.HTTPError as error:
                logger.warning("Notion revoke failed: %s", type(error).__name__)
                return False
        if resp.status_code < 400 or resp.status_code in (400, 401):
            return True
        logger.warning("Notion revoke answered HTTP %s", resp.status_code)
        return False

    async def introspect(self, token: str) -> bool:
        """Whether Notion still considers ``token`` active."""
        async with self._client() as client:
            try:
                resp = await client.introspect_token(f"{self.base_url}/v1/oauth/introspect", token=token)
            except httpx2.HTTPError as error:
                raise OAuthExchangeFailed("Notion's sign-in service is unavailable; try again.") from error
        if resp.status_code >= 500:
            raise OAuthExchangeFailed("Notion's sign-in service is unavailable; try again.")
        if resp.status_code >= 400:
            return False
        return bool(resp.json().get("active"))
