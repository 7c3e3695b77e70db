"""Validation of identifiers that become parts of storage paths (tenant ids, document ids).

A tenant id ends up in Firestore paths (``users/{tenant}``), blob prefixes (``tenants/{tenant}/``)
and task names, so it is restricted to a boring alphabet: no separators, no dots, no traversal.
"""

from __future__ import annotations

import re

from shared.errors import InvalidRequest

_TENANT_ID = re.compile(r"^[a-z0-9][a-z0-9_-]{2,63}$")
# Firestore document ids may not contain "/", be "." or "..", or match __.*__; we are stricter.
_SEGMENT = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.:@+=-]{0,254}$")


class InvalidTenantId(InvalidRequest):
    code = "invalid_tenant"
    default_message = "The tenant id is invalid."


def validate_tenant_id(tenant_id: object) -> str:
    """Return ``tenant_id`` if it is a well-formed tenant id, else raise :class:`InvalidTenantId`."""
    if not isinstance(tenant_id, str) or not _TENANT_ID.fullmatch(tenant_id):
        raise InvalidTenantId(field="tenant_id")
    return tenant_id


def validate_segment(segment: object, *, field: str = "id") -> str:
    """Return one path segment (collection or document id) if safe, else raise."""
    if not isinstance(segment, str) or not _SEGMENT.fullmatch(segment) or ".." in segment:
        raise InvalidRequest(f"The {field} is invalid.", field=field)
    return segment


def tenant_id_for_workspace(workspace_id: str) -> str:
    """The tenant id of a Notion workspace: stable, so re-authorising updates the same tenant."""
    compact = workspace_id.replace("-", "").lower()
    if not re.fullmatch(r"[0-9a-f]{32}", compact):
        raise InvalidRequest("The workspace id is invalid.", field="workspace_id")
    return f"ws-{compact}"
