"""Errors of the Notion connection flows.

    ConnectionFlowError (UpstreamError, 502)
    ├── OAuthExchangeFailed       Notion refused or failed the code exchange (bad code, outage)
    └── OAuthInvalidGrant         a refresh token was refused: the user must reconnect
    NotConnected (Conflict, 409)  the tenant has no usable Notion connection (disconnected or needs_reauth)
    AccessDenied (InvalidRequest) the user cancelled on Notion's consent page
"""

from __future__ import annotations

from shared.errors import Conflict, InvalidRequest, UpstreamError


class ConnectionFlowError(UpstreamError):
    code = "notion_oauth_error"
    default_message = "Talking to Notion's sign-in service failed."


class OAuthExchangeFailed(ConnectionFlowError):
    code = "oauth_exchange_failed"
    default_message = "Notion did not accept the sign-in; please try again."


class OAuthInvalidGrant(ConnectionFlowError):
    code = "oauth_invalid_grant"
    default_message = "Notion refused the stored authorisation; please reconnect."


class NotConnected(Conflict):
    code = "not_connected"
    default_message = "This account is not connected to Notion; please reconnect."


class AccessDenied(InvalidRequest):
    code = "access_denied"
    default_message = "Notion access was not granted."
