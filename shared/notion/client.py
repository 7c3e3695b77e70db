"""The Notion API client every function uses: ``NotionGateway``.

Built on ``notion_client.AsyncClient`` (notion-sdk-py 3.1) with ``Notion-Version: 2025-09-03``
(databases hold *data sources*; pages are created in and queried from a data source). On top of
the library it adds what a multi-tenant service needs:

* **the tenant's token per request** from a :class:`TokenProvider`; on a 401 the provider is asked
  once to refresh and the call is retried once; a second 401 raises
  :class:`~shared.notion.errors.NotionAuthError` (the user must reconnect);
* **a per-tenant request budget** (:class:`~shared.notion.budget.TenantRateLimiter`, about 3
  requests/s) that every HTTP attempt, retries included, passes through;
* **retries** through the library's own retry loop (``RetryOptions``: attempts, ``Retry-After``
  parsing, exponential back-off with jitter) with a wider policy: 429 and 529 are retried for
  every method (Notion did not process the request), 5xx, timeouts and network errors only for
  calls that are safe to repeat. The wait goes through the tenant's budget (so all of the tenant's
  concurrent calls respect a ``Retry-After``) and hence through the injectable clock;
* **errors** from the documented family in :mod:`shared.notion.errors`, never library exceptions;
* **pagination** helpers (``iterate_*``) that yield every result across ``next_cursor`` pages,
  and chunking of block children by Notion's 100-per-request limit.

Every data method takes ``tenant_id`` as a keyword-only argument and returns Notion's JSON as
plain dicts; :mod:`shared.notion.mapping` turns pages into tasks and routines.
"""

from __future__ import annotations

import asyncio
import contextvars
import functools
import logging
import re
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal, Protocol

import httpx
from notion_client import AsyncClient
from notion_client.client import ClientOptions, RetryOptions
from notion_client.errors import APIErrorCode, APIResponseError, NotionClientErrorBase, RequestTimeoutError
from notion_client.helpers import async_iterate_paginated_api

from shared.ids import validate_tenant_id
from shared.notion.budget import Clock, Sleep, TenantRateLimiter
from shared.notion.errors import InvalidNotionId, NotionAuthError, NotionUnavailable, from_client_error
from shared.notion.properties import rich_text

logger = logging.getLogger(__name__)

NOTION_API_BASE = "https://api.notion.com"
NOTION_VERSION = "2025-09-03"
PAGE_SIZE = 100  # Notion's maximum page size
MAX_CHILDREN_PER_REQUEST = 100  # Notion's limit of blocks per append (and per page create)

_NOTION_ID = re.compile(r"^[0-9a-fA-F]{8}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{12}$")

# Notion did not process these requests: repeating them cannot duplicate anything.
_RETRY_ALWAYS = frozenset({429, 529})
# The request may or may not have been applied: repeat only calls that are safe to repeat.
_RETRY_IF_IDEMPOTENT = frozenset({500, 502, 503, 504})


class TokenProvider(Protocol):
    """Where the gateway gets a tenant's Notion access token (implemented by the OAuth module)."""

    async def get_token(self, tenant_id: str) -> str:
        """The tenant's current access token."""
        ...

    async def refresh_token(self, tenant_id: str, rejected_token: str) -> str:
        """A fresh access token after Notion rejected ``rejected_token`` (raise if impossible).

        If another caller already replaced ``rejected_token``, return the newer token without
        refreshing again.
        """
        ...


@dataclass(frozen=True)
class _Call:
    tenant_id: str
    idempotent: bool


# The retry hooks of notion-client 3.1 this module overrides: fail at import, not mysteriously at
# run time, if an upgrade renames them.
_SDK_HOOKS = ("_can_retry", "_calculate_retry_delay", "_execute_single_request", "_parse_retry_after_header")
if not all(callable(getattr(AsyncClient, hook, None)) for hook in _SDK_HOOKS):
    raise ImportError("shared.notion.client needs notion-client 3.1's retry hooks: " + ", ".join(_SDK_HOOKS))

# The call in progress in this task: the library's retry hooks below need to know whose budget to
# use and whether the request may be repeated, and they are called without that context.
_CURRENT_CALL: contextvars.ContextVar[_Call] = contextvars.ContextVar("notion_call")


class _NetworkError(NotionClientErrorBase):
    """A connection-level failure, raised inside the library's retry loop so it can be retried."""

    code = "network_error"
    status = None


class _BudgetedAsyncClient(AsyncClient):
    """``notion_client.AsyncClient`` whose retry loop waits through the tenant's budget.

    Overrides three of the library's retry hooks and keeps its loop: ``_can_retry`` (policy),
    ``_calculate_retry_delay`` (the delay becomes a pause of the tenant's bucket, and the library's
    own sleep becomes a no-op) and ``_execute_single_request`` (each attempt takes a budget slot).
    """

    def __init__(self, *, limiter: TenantRateLimiter, options: ClientOptions, http_client: httpx.AsyncClient):
        self._limiter = limiter
        super().__init__(options=options, client=http_client)

    def _can_retry(self, error: Exception, method: str) -> bool:
        call = _CURRENT_CALL.get()
        status = getattr(error, "status", None)
        if status in _RETRY_ALWAYS:
            return True
        if isinstance(error, (RequestTimeoutError, _NetworkError)):
            return call.idempotent
        return call.idempotent and status in _RETRY_IF_IDEMPOTENT

    def _calculate_retry_delay(self, error: Exception, attempt: int) -> float:
        headers = getattr(error, "headers", None)
        # The library reads Retry-After only on errors whose body it recognises; a 529 or a bare
        # 503 from a proxy carries it too.
        retry_after_ms = self._parse_retry_after_header(headers) if headers is not None else None
        if retry_after_ms is not None:
            delay = min(retry_after_ms, self._max_retry_delay_ms) / 1000.0
        else:
            delay = super()._calculate_retry_delay(error, attempt)
        self._limiter.pause(_CURRENT_CALL.get().tenant_id, delay)
        return 0.0  # the wait happens in _execute_single_request, on the injectable clock

    async def _execute_single_request(self, request: httpx.Request, method: str, path: str) -> Any:
        await self._limiter.acquire(_CURRENT_CALL.get().tenant_id)
        try:
            return await super()._execute_single_request(request, method, path)
        except httpx.TransportError as error:  # timeouts are already RequestTimeoutError
            raise _NetworkError(type(error).__name__) from error


def notion_id(value: object, *, field: str = "id") -> str:
    """Return ``value`` if it is a Notion id (32 hex digits, dashes optional), else raise."""
    if not isinstance(value, str) or not _NOTION_ID.fullmatch(value):
        raise InvalidNotionId(f"The {field} is not a Notion id.", field=field)
    return value


def _present(**kwargs: Any) -> dict[str, Any]:
    # notion_client sends a None as JSON null, which Notion rejects for most optional parameters.
    return {key: value for key, value in kwargs.items() if value is not None}


@functools.lru_cache(maxsize=4)
def process_limiter(requests_per_second: float) -> TenantRateLimiter:
    """The process-wide per-tenant budget (the limiter keeps no event-loop state, so gateways made
    in different ``asyncio.run`` calls can share it)."""
    return TenantRateLimiter(rate=requests_per_second)


class NotionGateway:
    """Calls Notion on behalf of tenants. One instance per process; safe for concurrent use."""

    def __init__(
        self,
        *,
        token_provider: TokenProvider,
        base_url: str = NOTION_API_BASE,
        notion_version: str = NOTION_VERSION,
        http_client: httpx.AsyncClient | None = None,
        timeout_seconds: float = 30.0,
        max_retries: int = 3,
        initial_retry_delay_seconds: float = 1.0,
        max_retry_delay_seconds: float = 60.0,
        requests_per_second: float = 3.0,
        burst: int = 3,
        limiter: TenantRateLimiter | None = None,
        clock: Clock = time.monotonic,
        sleep: Sleep = asyncio.sleep,
    ) -> None:
        self._tokens = token_provider
        self.limiter = limiter or TenantRateLimiter(rate=requests_per_second, burst=burst, clock=clock, sleep=sleep)
        self._owns_http = http_client is None
        options = ClientOptions(
            base_url=base_url.rstrip("/"),
            timeout_ms=int(timeout_seconds * 1000),
            notion_version=notion_version,
            logger=logging.getLogger(f"{__name__}.sdk"),  # not the library's stdout console logger
            log_level=logging.WARNING,
            retry=RetryOptions(
                max_retries=max_retries,
                initial_retry_delay_ms=int(initial_retry_delay_seconds * 1000),
                max_retry_delay_ms=int(max_retry_delay_seconds * 1000),
            ),
        )
        # The library takes over the client's base URL, timeout and headers.
        self._sdk = _BudgetedAsyncClient(
            limiter=self.limiter, options=options, http_client=http_client or httpx.AsyncClient()
        )

    @classmethod
    def from_settings(cls, settings: Any, *, token_provider: TokenProvider, **kwargs: Any) -> "NotionGateway":
        """A gateway configured from ``shared.config.Settings`` (base URL, version, budget)."""
        kwargs.setdefault("base_url", settings.notion_api_base)
        kwargs.setdefault("notion_version", settings.notion_version)
        if not {"limiter", "clock", "sleep", "requests_per_second", "burst"} & set(kwargs):
            # Gateways are made per request (an HTTP client belongs to one event loop), but the
            # tenant budget must span them all: one limiter per process.
            kwargs["limiter"] = process_limiter(settings.notion_requests_per_second)
        kwargs.setdefault("requests_per_second", settings.notion_requests_per_second)
        return cls(token_provider=token_provider, **kwargs)

    async def aclose(self) -> None:
        """Close the HTTP client if the gateway created it."""
        if self._owns_http:
            await self._sdk.aclose()

    async def __aenter__(self) -> "NotionGateway":
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    # --- the one path every call takes --------------------------------------------------------

    async def _call(self, tenant_id: str, operation: Callable[[str], Awaitable[Any]], *, idempotent: bool) -> Any:
        tenant_id = validate_tenant_id(tenant_id)
        context = _CURRENT_CALL.set(_Call(tenant_id, idempotent))
        try:
            token = await self._tokens.get_token(tenant_id)
            try:
                return await operation(token)
            except APIResponseError as error:
                if error.code != APIErrorCode.Unauthorized:
                    raise
            logger.info("Notion rejected the access token of tenant %s; refreshing it", tenant_id)
            token = await self._tokens.refresh_token(tenant_id, token)
            try:
                return await operation(token)
            except APIResponseError as error:
                if error.code == APIErrorCode.Unauthorized:
                    logger.warning("Notion rejected the refreshed token of tenant %s", tenant_id)
                    raise NotionAuthError(
                        notion_code="unauthorized", notion_status=error.status, request_id=error.request_id
                    ) from None
                raise
        except _NetworkError as error:
            raise NotionUnavailable(notion_code="network_error", notion_message=str(error)) from error
        except NotionClientErrorBase as error:
            raise from_client_error(error) from error
        finally:
            _CURRENT_CALL.reset(context)

    # --- users --------------------------------------------------------------------------------

    async def users_me(self, *, tenant_id: str) -> dict[str, Any]:
        """The integration's bot user in the tenant's workspace (``bot.workspace_name``...)."""
        return await self._call(tenant_id, lambda auth: self._sdk.users.me(auth=auth), idempotent=True)

    # --- databases and data sources -----------------------------------------------------------

    async def retrieve_database(self, database_id: str, *, tenant_id: str) -> dict[str, Any]:
        """A database; its ``data_sources`` lists ``{id, name}`` of the data sources it holds."""
        database_id = notion_id(database_id, field="database_id")
        return await self._call(
            tenant_id, lambda auth: self._sdk.databases.retrieve(database_id, auth=auth), idempotent=True
        )

    async def create_database(
        self,
        parent_page_id: str,
        *,
        tenant_id: str,
        title: str,
        properties: Mapping[str, Any],
        icon: Mapping[str, Any] | None = None,
        is_inline: bool = False,
    ) -> dict[str, Any]:
        """Create a database under a page, with one data source of the given property schema."""
        parent_page_id = notion_id(parent_page_id, field="parent_page_id")
        body = _present(
            parent={"type": "page_id", "page_id": parent_page_id},
            title=rich_text(title),
            initial_data_source={"properties": dict(properties)},
            icon=icon,
            is_inline=is_inline,
        )
        return await self._call(tenant_id, lambda auth: self._sdk.databases.create(**body, auth=auth), idempotent=False)

    async def retrieve_data_source(self, data_source_id: str, *, tenant_id: str) -> dict[str, Any]:
        """A data source with its property schema (``properties``)."""
        data_source_id = notion_id(data_source_id, field="data_source_id")
        return await self._call(
            tenant_id, lambda auth: self._sdk.data_sources.retrieve(data_source_id, auth=auth), idempotent=True
        )

    async def update_data_source(
        self, data_source_id: str, *, tenant_id: str, properties: Mapping[str, Any]
    ) -> dict[str, Any]:
        """Add, rename or remove properties of a data source (onboarding fills missing columns)."""
        data_source_id = notion_id(data_source_id, field="data_source_id")
        body = {"properties": dict(properties)}
        return await self._call(
            tenant_id, lambda auth: self._sdk.data_sources.update(data_source_id, **body, auth=auth), idempotent=True
        )

    async def query_data_source(
        self,
        data_source_id: str,
        *,
        tenant_id: str,
        filter: Mapping[str, Any] | None = None,
        sorts: Sequence[Mapping[str, Any]] | None = None,
        start_cursor: str | None = None,
        page_size: int = PAGE_SIZE,
    ) -> dict[str, Any]:
        """One page of a data source query: ``{"results", "next_cursor", "has_more", ...}``."""
        data_source_id = notion_id(data_source_id, field="data_source_id")
        body = _present(
            filter=filter, sorts=list(sorts) if sorts is not None else None, start_cursor=start_cursor, page_size=page_size
        )
        # A query only reads, although it is a POST: safe to repeat after a 5xx.
        return await self._call(
            tenant_id, lambda auth: self._sdk.data_sources.query(data_source_id, **body, auth=auth), idempotent=True
        )

    def iterate_data_source(
        self,
        data_source_id: str,
        *,
        tenant_id: str,
        filter: Mapping[str, Any] | None = None,
        sorts: Sequence[Mapping[str, Any]] | None = None,
    ) -> AsyncIterator[dict[str, Any]]:
        """Every page (row) matching the query, fetching 100 at a time."""
        query = functools.partial(self.query_data_source, data_source_id, tenant_id=tenant_id, filter=filter, sorts=sorts)
        return async_iterate_paginated_api(query)

    # --- pages --------------------------------------------------------------------------------

    async def retrieve_page(self, page_id: str, *, tenant_id: str) -> dict[str, Any]:
        page_id = notion_id(page_id, field="page_id")
        return await self._call(tenant_id, lambda auth: self._sdk.pages.retrieve(page_id, auth=auth), idempotent=True)

    async def create_page(
        self,
        parent_id: str,
        *,
        tenant_id: str,
        properties: Mapping[str, Any],
        children: Sequence[Mapping[str, Any]] = (),
        parent_type: Literal["data_source_id", "page_id"] = "data_source_id",
        icon: Mapping[str, Any] | None = None,
    ) -> dict[str, Any]:
        """Create a page in a data source (a row) or, with ``parent_type="page_id"``, under a page.

        Children beyond Notion's 100 per request are appended afterwards, in order.
        """
        parent_id = notion_id(parent_id, field="parent_id")
        if parent_type not in ("data_source_id", "page_id"):
            raise InvalidNotionId("The parent type must be data_source_id or page_id.", field="parent_type")
        children = list(children)
        body = _present(
            parent={"type": parent_type, parent_type: parent_id},
            properties=dict(properties),
            children=children[:MAX_CHILDREN_PER_REQUEST],
            icon=icon,
        )
        page = await self._call(tenant_id, lambda auth: self._sdk.pages.create(**body, auth=auth), idempotent=False)
        if len(children) > MAX_CHILDREN_PER_REQUEST:
            await self.append_block_children(page["id"], children[MAX_CHILDREN_PER_REQUEST:], tenant_id=tenant_id)
        return page

    async def update_page(
        self,
        page_id: str,
        *,
        tenant_id: str,
        properties: Mapping[str, Any] | None = None,
        in_trash: bool | None = None,
    ) -> dict[str, Any]:
        """Set some properties of a page, and/or move it to or out of the trash."""
        page_id = notion_id(page_id, field="page_id")
        body = _present(properties=dict(properties) if properties is not None else None, in_trash=in_trash)
        # Setting properties to given values is idempotent.
        return await self._call(
            tenant_id, lambda auth: self._sdk.pages.update(page_id, **body, auth=auth), idempotent=True
        )

    # --- blocks -------------------------------------------------------------------------------

    async def append_block_children(
        self,
        block_id: str,
        children: Sequence[Mapping[str, Any]],
        *,
        tenant_id: str,
        after: str | None = None,
    ) -> list[dict[str, Any]]:
        """Append blocks to a page or block, 100 per request, keeping their order; return them."""
        block_id = notion_id(block_id, field="block_id")
        if after is not None:
            after = notion_id(after, field="after")
        children = list(children)
        created: list[dict[str, Any]] = []
        for start in range(0, len(children), MAX_CHILDREN_PER_REQUEST):
            body = _present(children=children[start : start + MAX_CHILDREN_PER_REQUEST], after=after)
            response = await self._call(
                tenant_id,
                lambda auth, body=body: self._sdk.blocks.children.append(block_id, **body, auth=auth),
                idempotent=False,  # appending twice would duplicate the blocks
            )
            results = response.get("results", [])
            created.extend(results)
            if after is not None and results:
                after = results[-1]["id"]  # the next chunk goes after this one, not after the anchor
        return created

    async def list_block_children(
        self, block_id: str, *, tenant_id: str, start_cursor: str | None = None, page_size: int = PAGE_SIZE
    ) -> dict[str, Any]:
        """One page of a block's children."""
        block_id = notion_id(block_id, field="block_id")
        query = _present(start_cursor=start_cursor, page_size=page_size)
        return await self._call(
            tenant_id, lambda auth: self._sdk.blocks.children.list(block_id, **query, auth=auth), idempotent=True
        )

    def iterate_block_children(self, block_id: str, *, tenant_id: str) -> AsyncIterator[dict[str, Any]]:
        """Every child block of a page or block."""
        return async_iterate_paginated_api(functools.partial(self.list_block_children, block_id, tenant_id=tenant_id))

    async def delete_block(self, block_id: str, *, tenant_id: str) -> dict[str, Any]:
        """Move a block (or a page, by its id) to the trash."""
        block_id = notion_id(block_id, field="block_id")
        return await self._call(tenant_id, lambda auth: self._sdk.blocks.delete(block_id, auth=auth), idempotent=True)

    # --- search -------------------------------------------------------------------------------

    async def search(
        self,
        *,
        tenant_id: str,
        query: str | None = None,
        filter: Mapping[str, Any] | None = None,
        sort: Mapping[str, Any] | None = None,
        start_cursor: str | None = None,
        page_size: int = PAGE_SIZE,
    ) -> dict[str, Any]:
        """One page of pages and data sources shared with the integration whose title matches.

        ``filter`` is ``{"property": "object", "value": "page" | "data_source"}``.
        """
        body = _present(query=query, filter=filter, sort=sort, start_cursor=start_cursor, page_size=page_size)
        return await self._call(tenant_id, lambda auth: self._sdk.search(**body, auth=auth), idempotent=True)

    def iterate_search(
        self,
        *,
        tenant_id: str,
        query: str | None = None,
        filter: Mapping[str, Any] | None = None,
        sort: Mapping[str, Any] | None = None,
    ) -> AsyncIterator[dict[str, Any]]:
        """Every search result."""
        return async_iterate_paginated_api(
            functools.partial(self.search, tenant_id=tenant_id, query=query, filter=filter, sort=sort)
        )
