"""HTML rendering for the dashboard: Jinja2 templates (autoescaped) and the function's own static
files, served with a content hash in their URL so browsers may cache them for a year.

The template and static folders belong to the web function (``functions/web/templates``,
``functions/web/static``); this module only knows how to use them. Files are served under
``/assets/``: functions-framework's Flask app keeps Flask's own ``/static/`` route, which would
shadow the function's.

Every template sees ``base`` (the :class:`~shared.dashboard.paths.BasePath` prefix, ``""`` at a
host's root) and ``u('/app')``, the URL path of one of the function's routes; asset URLs carry the
prefix too. A template never writes a root-relative URL by hand.
"""

from __future__ import annotations

import hashlib
import mimetypes
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import flask
import jinja2

from shared.dashboard.paths import BasePath
from shared.dashboard.security import harden
from shared.errors import NotFound

_STATIC_TYPES = {".css": "text/css", ".js": "text/javascript", ".svg": "image/svg+xml", ".ico": "image/x-icon"}


class Renderer:
    """Renders the templates of one folder and serves the files of one static folder."""

    def __init__(self, templates: Path, static: Path, *, static_prefix: str = "/assets",
                 paths: BasePath | None = None, globals: Mapping[str, Any] | None = None) -> None:
        self.paths = paths or BasePath()  # None: the function at the root of its host
        self.static_prefix = static_prefix.rstrip("/")
        self._static: dict[str, tuple[bytes, str, str]] = {}
        for path in sorted(static.iterdir()) if static.is_dir() else []:
            if path.is_file() and path.suffix in _STATIC_TYPES:
                data = path.read_bytes()
                self._static[path.name] = (data, _STATIC_TYPES[path.suffix] or mimetypes.guess_type(path.name)[0],
                                           hashlib.sha256(data).hexdigest()[:12])
        self.env = jinja2.Environment(
            loader=jinja2.FileSystemLoader(str(templates)),
            autoescape=jinja2.select_autoescape(default=True, default_for_string=True),
            undefined=jinja2.StrictUndefined,  # a typo in a template fails the test, not silently renders ""
            trim_blocks=True,
            lstrip_blocks=True,
        )
        self.env.globals.update(dict(globals or {}), asset=self.asset_url, base=self.paths.prefix,
                                u=self.paths)

    def asset_url(self, name: str) -> str:
        """The URL of a static file, versioned by its content (a change busts every cache)."""
        if name not in self._static:
            raise KeyError(f"no static file {name!r}")
        return self.paths(f"{self.static_prefix}/{name}?v={self._static[name][2]}")

    def render(self, template: str, **context: Any) -> str:
        return self.env.get_template(template).render(**context)

    def page(self, template: str, *, status: int = 200, headers: Mapping[str, str] | None = None,
             **context: Any) -> flask.Response:
        """A complete HTML response with the security headers and ``no-store``."""
        response = flask.Response(self.render(template, **context), status=status, mimetype="text/html")
        for key, value in (headers or {}).items():
            response.headers[key] = value
        return harden(response)

    def static_response(self, name: str) -> flask.Response:
        """A static file (404 for anything else: names are looked up, never joined to a path)."""
        found = self._static.get(name)
        if found is None:
            raise NotFound("No such file.", code="no_static_file")
        data, mimetype, digest = found
        response = flask.Response(data, mimetype=mimetype)
        response.headers["ETag"] = f'"{digest}"'
        response = harden(response, private=False)
        response.headers["Cache-Control"] = "public, max-age=31536000, immutable"
        return response
