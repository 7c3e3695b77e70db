"""Response headers every dashboard response carries.

The Content-Security-Policy allows nothing from another origin: scripts and styles come from the
function itself (``/assets/...`` under the dashboard's base path, the same origin), images only
from the page itself or ``data:`` URLs, forms post only to this origin, and no page may be framed.
Charts are inline ``<svg>`` elements, which the policy does not restrict; they use presentation
attributes, never inline ``style``.
"""

from __future__ import annotations

from collections.abc import Mapping

CONTENT_SECURITY_POLICY = "; ".join((
    "default-src 'none'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self' data:",
    "font-src 'self'",
    "connect-src 'self'",
    "form-action 'self'",
    "frame-ancestors 'none'",
    "base-uri 'none'",
))

SECURITY_HEADERS: Mapping[str, str] = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Cross-Origin-Resource-Policy": "same-origin",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=(), payment=()",
}


def harden(response, *, private: bool = True):
    """Add the security headers to a Flask/Werkzeug response (and ``no-store`` when ``private``:
    pages show one tenant's data and must not sit in a shared cache)."""
    for name, value in SECURITY_HEADERS.items():
        response.headers[name] = value
    if private:
        response.headers["Cache-Control"] = "no-store"
    return response
