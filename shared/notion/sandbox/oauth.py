"""The sandbox's OAuth authorisation server, behaving like Notion's.

* ``GET /v1/oauth/authorize`` shows a consent page; "Allow" redirects to ``redirect_uri`` with
  ``code`` and ``state``, "Cancel" with ``error=access_denied`` and ``state``.
* ``POST /v1/oauth/token`` (HTTP Basic client credentials; JSON or form body) exchanges a code
  (single use, 10 minutes, bound to the client and redirect URI) or a refresh token. Refresh
  tokens **rotate**: the used refresh token and its access token stop working.
* ``POST /v1/oauth/revoke`` revokes a token and its pair; ``POST /v1/oauth/introspect`` reports
  whether a token is active.

Errors follow RFC 6749 as Notion does: ``{"error": "invalid_grant", "error_description": ...}``.
Access tokens do not expire by default (Notion sends no ``expires_in``); the admin API can expire
them to exercise refresh paths.
"""

from __future__ import annotations

import base64
import binascii
import hmac
import html
import secrets
import time
from dataclasses import asdict, dataclass, field
from typing import Any
from urllib.parse import parse_qsl, unquote_plus, urlencode, urlsplit, urlunsplit

CODE_TTL_SECONDS = 600
SCOPE = "read_content update_content insert_content"


class OAuthError(Exception):
    """An RFC 6749 error response of the token, revoke or introspect endpoint."""

    def __init__(self, status: int, error: str, description: str) -> None:
        super().__init__(description)
        self.status = status
        self.error = error
        self.description = description

    def body(self) -> dict[str, Any]:
        return {"error": self.error, "error_description": self.description}


@dataclass
class Grant:
    code: str
    client_id: str
    redirect_uri: str | None
    workspace_id: str
    expires_at: float
    used: bool = False


@dataclass
class Token:
    value: str
    kind: str  # "access" | "refresh"
    workspace_id: str
    client_id: str
    issued_at: float
    pair: str  # the other token of the pair
    active: bool = True
    expires_at: float | None = None


@dataclass
class OAuthServer:
    """Clients, codes and tokens; ``workspaces`` is consulted to render token responses."""

    client_id: str
    client_secret: str
    redirect_uris: list[str] = field(default_factory=list)
    access_token_ttl: float | None = None
    grants: dict[str, Grant] = field(default_factory=dict)
    tokens: dict[str, Token] = field(default_factory=dict)
    clock: Any = time.time

    # --- persistence ------------------------------------------------------------------------------

    def to_dict(self) -> dict[str, Any]:
        return {"grants": {k: asdict(v) for k, v in self.grants.items()}, "tokens": {k: asdict(v) for k, v in self.tokens.items()}}

    def load(self, data: dict[str, Any]) -> None:
        self.grants = {k: Grant(**v) for k, v in data.get("grants", {}).items()}
        self.tokens = {k: Token(**v) for k, v in data.get("tokens", {}).items()}

    # --- authorize --------------------------------------------------------------------------------

    def check_authorize(self, params: dict[str, str]) -> str | None:
        """Why an authorize request is refused (shown on a page, never redirected), or ``None``."""
        if params.get("client_id") != self.client_id:
            return "Unknown client_id."
        if params.get("response_type") != "code":
            return "response_type must be code."
        if params.get("owner", "user") != "user":
            return "owner must be user."
        redirect_uri = params.get("redirect_uri")
        if not redirect_uri:
            return "redirect_uri is required."
        if urlsplit(redirect_uri).scheme not in ("http", "https"):
            return "redirect_uri must be an http(s) URL."
        if self.redirect_uris and redirect_uri not in self.redirect_uris:
            return "redirect_uri is not registered for this integration."
        return None

    def decide(self, params: dict[str, str], *, allow: bool, workspace_id: str) -> str:
        """The URL the browser is sent to after the user clicked Allow or Cancel."""
        query: dict[str, str] = {}
        if allow:
            code = secrets.token_urlsafe(24)
            self.grants[code] = Grant(
                code=code,
                client_id=params["client_id"],
                redirect_uri=params.get("redirect_uri"),
                workspace_id=workspace_id,
                expires_at=self.clock() + CODE_TTL_SECONDS,
            )
            query["code"] = code
        else:
            query["error"] = "access_denied"
        if params.get("state") is not None:
            query["state"] = params["state"]
        return _with_query(params["redirect_uri"], query)

    # --- client authentication ----------------------------------------------------------------------

    def authenticate_client(self, authorization: str | None) -> str:
        """The client id of valid HTTP Basic credentials, else ``invalid_client``."""
        if not authorization or not authorization.lower().startswith("basic "):
            raise OAuthError(401, "invalid_client", "Client authentication (HTTP Basic) is required.")
        try:
            decoded = base64.b64decode(authorization[6:].strip(), validate=True).decode()
        except (binascii.Error, UnicodeDecodeError):
            raise OAuthError(401, "invalid_client", "Malformed client credentials.") from None
        client_id, _, secret = decoded.partition(":")
        # RFC 6749 §2.3.1 form-encodes both parts before base64 (authlib does); plain works too.
        for candidate_id, candidate_secret in ((client_id, secret), (unquote_plus(client_id), unquote_plus(secret))):
            if hmac.compare_digest(candidate_id, self.client_id) and hmac.compare_digest(candidate_secret, self.client_secret):
                return candidate_id
        raise OAuthError(401, "invalid_client", "Invalid client credentials.")

    # --- tokens ----------------------------------------------------------------------------------------

    def issue(self, workspace_id: str, client_id: str) -> tuple[str, str]:
        """A new access/refresh pair for a workspace."""
        now = self.clock()
        access = "ntn_sbx_" + secrets.token_urlsafe(30)
        refresh = "nrt_sbx_" + secrets.token_urlsafe(30)
        expires = now + self.access_token_ttl if self.access_token_ttl else None
        self.tokens[access] = Token(access, "access", workspace_id, client_id, now, refresh, expires_at=expires)
        self.tokens[refresh] = Token(refresh, "refresh", workspace_id, client_id, now, access)
        return access, refresh

    def exchange(self, client_id: str, body: dict[str, Any]) -> tuple[str, str, str]:
        """``(workspace_id, access, refresh)`` for a token request, or an :class:`OAuthError`."""
        grant_type = body.get("grant_type")
        if grant_type == "authorization_code":
            code = body.get("code")
            grant = self.grants.get(code) if isinstance(code, str) else None
            if grant is None or grant.used or grant.expires_at < self.clock() or grant.client_id != client_id:
                raise OAuthError(400, "invalid_grant", "Invalid code.")
            if grant.redirect_uri is not None and body.get("redirect_uri") != grant.redirect_uri:
                raise OAuthError(400, "invalid_grant", "redirect_uri does not match the authorization request.")
            grant.used = True
            access, refresh = self.issue(grant.workspace_id, client_id)
            return grant.workspace_id, access, refresh
        if grant_type == "refresh_token":
            value = body.get("refresh_token")
            token = self.tokens.get(value) if isinstance(value, str) else None
            if token is None or token.kind != "refresh" or not token.active or token.client_id != client_id:
                raise OAuthError(400, "invalid_grant", "Token has been expired or revoked.")
            # Rotation: the old refresh token and its access token stop working now.
            token.active = False
            if token.pair in self.tokens:
                self.tokens[token.pair].active = False
            access, refresh = self.issue(token.workspace_id, client_id)
            return token.workspace_id, access, refresh
        if grant_type is None:
            raise OAuthError(400, "invalid_request", "grant_type is required.")
        raise OAuthError(400, "unsupported_grant_type", f"Unsupported grant_type: {grant_type}.")

    def revoke(self, value: Any) -> None:
        token = self.tokens.get(value) if isinstance(value, str) else None
        if token is None:
            return  # RFC 7009: revoking an unknown token succeeds
        token.active = False
        if token.pair in self.tokens:
            self.tokens[token.pair].active = False

    def is_active(self, token: Token) -> bool:
        return token.active and (token.expires_at is None or token.expires_at > self.clock())

    def introspect(self, value: Any) -> dict[str, Any]:
        token = self.tokens.get(value) if isinstance(value, str) else None
        if token is None or not self.is_active(token):
            return {"active": False}
        return {"active": True, "scope": SCOPE, "iat": int(token.issued_at)}

    def workspace_of_bearer(self, authorization: str | None) -> str | None:
        """The workspace an API bearer token belongs to, if the token is a live access token."""
        if not authorization or not authorization.startswith("Bearer "):
            return None
        token = self.tokens.get(authorization[7:].strip())
        if token is None or token.kind != "access" or not self.is_active(token):
            return None
        return token.workspace_id

    def expire(self, *, token: str | None = None, workspace_id: str | None = None) -> int:
        """Make access tokens look expired (by value, or all of a workspace); how many."""
        count = 0
        for record in self.tokens.values():
            if record.kind != "access" or not self.is_active(record):
                continue
            if (token is not None and record.value == token) or (workspace_id is not None and record.workspace_id == workspace_id):
                record.expires_at = self.clock() - 1
                count += 1
        return count


def _with_query(url: str, extra: dict[str, str]) -> str:
    parts = urlsplit(url)
    query = parse_qsl(parts.query, keep_blank_values=True) + list(extra.items())
    return urlunsplit((parts.scheme, parts.netloc, parts.path, urlencode(query), parts.fragment))


def consent_page(params: dict[str, str], integration_name: str, workspaces: list[tuple[str, str]]) -> str:
    """The HTML consent screen: pick a workspace, then Allow or Cancel (a POST form)."""
    hidden = "".join(
        f'<input type="hidden" name="{html.escape(k)}" value="{html.escape(v)}">'
        for k, v in params.items()
        if k in ("client_id", "redirect_uri", "response_type", "owner", "state")
    )
    options = "".join(f'<option value="{html.escape(wid)}">{html.escape(name)}</option>' for wid, name in workspaces)
    name = html.escape(integration_name)
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Notion (sandbox) – {name}</title></head>
<body>
<h1>{name} would like to access your Notion workspace</h1>
<p>This is the local Notion sandbox: no real Notion account is involved.</p>
<form method="post" action="/v1/oauth/authorize">{hidden}
<label>Workspace <select name="workspace_id" id="workspace">{options}</select></label>
<p><button type="submit" name="decision" value="allow" id="allow">Allow access</button>
<button type="submit" name="decision" value="deny" id="cancel">Cancel</button></p>
</form>
</body></html>
"""


def error_page(message: str) -> str:
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Notion (sandbox) – error</title></head>
<body><h1>Something went wrong</h1><p>{html.escape(message)}</p></body></html>
"""
