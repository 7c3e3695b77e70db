"""Page and API handler wrappers for the dashboard's routes (used with :class:`shared.web.Router`).

* :meth:`PageHandlers.page` — an HTML route: a missing or ended session sends the browser to the
  landing page (302) instead of a JSON 401; any other :class:`~shared.errors.AppError` renders the
  error page with its status (and headers, e.g. ``Retry-After``); anything unexpected is logged,
  sent to Sentry and rendered as a 500 page that says nothing about internals;
* :meth:`PageHandlers.api` — a JSON route: errors keep the router's standard JSON body.

Both add the security headers (:mod:`shared.dashboard.security`) to what they return. Every
``Location`` is a full URL or a path built with :class:`~shared.dashboard.paths.BasePath` (the
dashboard may live under a prefix of its host), never a bare route.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import flask

from shared.dashboard.render import Renderer
from shared.dashboard.security import harden
from shared.errors import AppError, Unauthenticated
from shared.web import RequestContext, capture_exception, error_body, json_response, to_response

logger = logging.getLogger(__name__)

Handler = Callable[[flask.Request, RequestContext], Any]


@dataclass(frozen=True)
class Visitor:
    """The signed-in user as the pages show them."""

    tenant_id: str
    workspace_name: str
    tier: str
    connection_status: str
    csrf_token: str

    @property
    def needs_reauth(self) -> bool:
        return self.connection_status != "connected"


def see_other(location: str) -> flask.Response:
    """303 after a successful form POST (the browser then GETs ``location``: a full URL or a path
    under the base path, ``u("/app")``)."""
    response = flask.Response(status=303)
    response.headers["Location"] = location
    return harden(response)


def found(location: str) -> flask.Response:
    """302 to ``location`` (a full URL or a path under the base path, ``u("/onboarding")``)."""
    response = flask.Response(status=302)
    response.headers["Location"] = location
    return harden(response)


class PageHandlers:
    def __init__(self, renderer: Renderer, *, landing: str = "/", context: Callable[[], dict[str, Any]] = dict) -> None:
        self.renderer = renderer
        self.landing = landing  # where a signed-out browser goes: u("/") under a prefix
        self.context = context  # globals every error page needs (sign-in URL, ...)

    def error_page(self, error: AppError, ctx: RequestContext) -> flask.Response:
        return self.renderer.page("error.html", status=error.status, headers=error.headers(), error=error,
                                  request_id=ctx.request_id, visitor=None, nav="", **self.context())

    def page(self, handler: Handler) -> Handler:
        @functools.wraps(handler)
        def wrapped(request: flask.Request, ctx: RequestContext) -> flask.Response:
            try:
                return harden(to_response(handler(request, ctx)))
            except Unauthenticated:
                return found(self.landing)
            except AppError as error:
                if error.status >= 500:
                    logger.error("page failed: %s", error.code, exc_info=error)
                    capture_exception(error)
                return self.error_page(error, ctx)
            except Exception as exc:  # a page must end as a page, never as a stack trace
                logger.exception("unhandled error on a page")
                capture_exception(exc)
                return self.error_page(AppError(), ctx)

        return wrapped

    def api(self, handler: Handler) -> Handler:
        @functools.wraps(handler)
        def wrapped(request: flask.Request, ctx: RequestContext) -> flask.Response:
            try:
                return harden(to_response(handler(request, ctx)))
            except AppError as error:  # the router's JSON error body, plus the security headers
                if error.status >= 500:
                    logger.error("request failed: %s", error.code, exc_info=error)
                    capture_exception(error)
                return harden(json_response(error_body(error, ctx.request_id), error.status, error.headers()))

        return wrapped


