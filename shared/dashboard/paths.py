"""Where the dashboard sits under its public URL.

In production every function shares one host and lives under its own path
(``https://REGION-PROJECT.cloudfunctions.net/web``), yet the function receives request paths
without that prefix: its routes stay ``/app``, ``/chat``... A link, form action, asset URL,
redirect ``Location`` or script fetch written as ``/app`` would leave the function, so each one
is built with :class:`BasePath`: ``paths("/app")`` is ``/web/app`` there and ``/app`` locally
(``http://127.0.0.1:8085``, the function at the root of its host).
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlsplit


@dataclass(frozen=True)
class BasePath:
    """The path prefix of the dashboard's public URL (``""`` at a host's root, else ``/web``-like,
    never with a trailing slash); calling it turns a route of the function into a URL path."""

    prefix: str = ""

    def __post_init__(self) -> None:
        if self.prefix and (not self.prefix.startswith("/") or self.prefix.endswith("/")):
            raise ValueError("a base path starts with '/' and does not end with one")

    @classmethod
    def of(cls, public_base_url: str) -> BasePath:
        """The base path of a public URL such as ``PLANNER_PUBLIC_BASE_URL``."""
        return cls(urlsplit(public_base_url).path.rstrip("/"))

    def __call__(self, route: str) -> str:
        """``route`` (``/app``, ``/chat?new=1``, ``/``) as a path under the base: ``/web/app``."""
        if not route.startswith("/") or route.startswith("//"):
            # "//x" would be read by a browser as another host
            raise ValueError("a route starts with a single '/'")
        return self.prefix + route
