"""The pieces of an OpenAPI 3.1 document and how they become JSON.

An :class:`Operation` says what one route accepts (path parameters, a query model, a JSON or form
body model) and answers (per status: a model, a raw JSON Schema, or another media type such as
``text/html``), and how it is authenticated. :func:`build_document` turns a function's operations
into one document whose schemas come from the pydantic models themselves
(``models_json_schema``, JSON Schema 2020-12 as OpenAPI 3.1 uses), so the document cannot drift
from what the handlers validate and return.

Every operation also answers the standard error body (:class:`ErrorBody`) for any status it does
not list (``default``): routing (404, 405), body size (413), rate limits (429) and unexpected
failures (500) can happen on any route.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field
from pydantic.json_schema import models_json_schema

OPENAPI_VERSION = "3.1.0"
REF = "#/components/schemas/{model}"

Auth = Literal["none", "session", "admin", "task", "notion_signature"]


class ErrorDetail(BaseModel):
    """The members of every error body (``shared.web.error_body``)."""

    model_config = ConfigDict(extra="forbid", title="ErrorDetail")

    code: str = Field(description="Stable machine-readable code, e.g. invalid_request, session_missing.")
    message: str = Field(description="What went wrong, written for the caller; never echoes secrets.")
    request_id: str | None = Field(description="The X-Request-Id of the request, for support.")
    field: str | None = Field(default=None, description="The request field that is wrong (400s).")
    retry_after: int | None = Field(default=None, ge=1, description="Seconds to wait (429, some 503s).")


class ErrorBody(BaseModel):
    """``{"error": {...}}``: the one shape of every JSON error."""

    model_config = ConfigDict(extra="forbid", title="Error")

    error: ErrorDetail


@dataclass(frozen=True)
class Answer:
    """One response: a pydantic model, a raw schema, or no body; with its media type."""

    description: str
    model: type[BaseModel] | None = None
    schema: Mapping[str, Any] | None = None
    media_type: str | None = "application/json"
    headers: Mapping[str, str] = field(default_factory=dict)  # name -> description
    also: tuple[str, ...] = ()  # other media types with the same schema (static files)

    @property
    def has_body(self) -> bool:
        return self.media_type is not None and (self.model is not None or self.schema is not None)


@dataclass(frozen=True)
class Operation:
    method: str
    path: str
    summary: str
    answers: Mapping[int, Answer]
    auth: Auth = "session"
    body: type[BaseModel] | None = None
    body_media_type: str = "application/json"
    body_schema: Mapping[str, Any] | None = None  # instead of a model
    body_one_of: tuple[type[BaseModel], ...] = ()  # instead of a model: one of these payloads
    query: type[BaseModel] | None = None
    description: str = ""
    tags: Sequence[str] = ()
    path_params: Mapping[str, str] = field(default_factory=dict)  # name -> description
    headers: Mapping[str, str] = field(default_factory=dict)  # required request headers -> description
    default: Answer | None = None  # any other status; None: the standard JSON error body

    @property
    def operation_id(self) -> str:
        words = re.findall(r"[A-Za-z0-9]+", f"{self.method} {self.path}")
        return words[0].lower() + "".join(w[:1].upper() + w[1:] for w in words[1:])


def error_answer(description: str, *, retry_after: bool = False) -> Answer:
    headers = {"Retry-After": "Seconds to wait before retrying."} if retry_after else {}
    return Answer(description, ErrorBody, headers=headers)


_SECURITY_SCHEMES = {
    "session": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT",
                "description": "The session token (from the Notion sign-in) as a Bearer token."},
    "sessionCookie": {"type": "apiKey", "in": "cookie", "name": "planner_session",
                      "description": "The browser session cookie (`__Host-planner_session` in production). "
                                     "Unsafe methods authenticated by the cookie also need the CSRF token in "
                                     "the `X-CSRF-Token` header or the `csrf_token` form field."},
    "admin": {"type": "http", "scheme": "bearer", "description": "The administrator token (PLANNER_ADMIN_TOKEN)."},
    "tasks": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT",
              "description": "A Google OIDC ID token of the tasks service account (Cloud Tasks / Cloud "
                             "Scheduler); the local profile accepts their X-CloudTasks-* / X-CloudScheduler headers."},
    "notionSignature": {"type": "apiKey", "in": "header", "name": "X-Notion-Signature",
                        "description": "sha256=<hex HMAC-SHA256 of the raw body keyed by the verification token>."},
}
_SECURITY = {
    "none": [],
    "session": [{"session": []}, {"sessionCookie": []}],
    "admin": [{"admin": []}],
    "task": [{"tasks": []}],
    "notion_signature": [{"notionSignature": []}],
}


def _models(operations: Sequence[Operation]) -> list[tuple[type[BaseModel], str]]:
    seen: dict[tuple[type[BaseModel], str], None] = {(ErrorBody, "serialization"): None}
    for op in operations:
        for model in (op.body, *op.body_one_of):
            if model is not None:
                seen[(model, "validation")] = None
        if op.query is not None:
            seen[(op.query, "validation")] = None
        for answer in [*op.answers.values(), *([op.default] if op.default else [])]:
            if answer.model is not None:
                seen[(answer.model, "serialization")] = None
    return list(seen)


def _parameters(op: Operation, schemas: Mapping[str, Any],
                refs: Mapping[tuple[type[BaseModel], str], Any]) -> list[dict[str, Any]]:
    params: list[dict[str, Any]] = []
    for name in re.findall(r"{([^}]+)}", op.path):
        params.append({"name": name, "in": "path", "required": True, "description": op.path_params.get(name, ""),
                       "schema": {"type": "string"}})
    if op.query is not None:
        ref = refs[(op.query, "validation")]["$ref"].rsplit("/", 1)[-1]
        model_schema = schemas[ref]
        required = set(model_schema.get("required", []))
        for name, prop in model_schema.get("properties", {}).items():
            params.append({"name": name, "in": "query", "required": name in required,
                           "description": prop.get("description", ""),
                           "schema": {k: v for k, v in prop.items() if k not in ("description",)}})
    for name, description in op.headers.items():
        params.append({"name": name, "in": "header", "required": True, "description": description,
                       "schema": {"type": "string"}})
    return params


def build_document(function: str, operations: Sequence[Operation], *, title: str, description: str,
                   server_url: str, version: str = "1.0.0") -> dict[str, Any]:
    """The OpenAPI 3.1 document of one function."""
    refs, defs = models_json_schema(_models(operations), ref_template=REF)
    schemas = copy.deepcopy(defs.get("$defs", {}))
    paths: dict[str, dict[str, Any]] = {}
    for op in operations:
        entry: dict[str, Any] = {"operationId": op.operation_id, "summary": op.summary,
                                 "tags": list(op.tags) or [function], "security": _SECURITY[op.auth]}
        if op.description:
            entry["description"] = op.description
        params = _parameters(op, schemas, refs)
        if params:
            entry["parameters"] = params
        if op.body is not None or op.body_schema is not None or op.body_one_of:
            if op.body_one_of:
                schema, required = {"oneOf": [refs[(m, "validation")] for m in op.body_one_of]}, True
            elif op.body is not None:
                schema = refs[(op.body, "validation")]
                # A JSON body whose every field has a default may be left out (parse_json reads it as {}).
                required = bool(schemas[schema["$ref"].rsplit("/", 1)[-1]].get("required"))
            else:
                schema, required = dict(op.body_schema or {}), True
            entry["requestBody"] = {"required": required, "content": {op.body_media_type: {"schema": schema}}}
        responses: dict[str, Any] = {}
        for status, answer in sorted(op.answers.items()):
            responses[str(status)] = _response(answer, refs)
        fallback = op.default or error_answer("The standard error body (any other status).")
        responses["default"] = _response(fallback, refs)
        entry["responses"] = responses
        paths.setdefault(op.path, {})[op.method.lower()] = entry
    return {
        "openapi": OPENAPI_VERSION,
        "info": {"title": title, "version": version, "description": description},
        "servers": [{"url": server_url, "description": f"The {function} function"}],
        "paths": paths,
        "components": {"schemas": schemas, "securitySchemes": copy.deepcopy(_SECURITY_SCHEMES)},
    }


def _response(answer: Answer, refs: Mapping[tuple[type[BaseModel], str], Any]) -> dict[str, Any]:
    out: dict[str, Any] = {"description": answer.description}
    if answer.headers:
        out["headers"] = {name: {"description": text, "schema": {"type": "string"}}
                          for name, text in answer.headers.items()}
    if answer.media_type is not None:
        if answer.model is not None:
            schema: Mapping[str, Any] = refs[(answer.model, "serialization")]
        else:
            schema = answer.schema or {"type": "string"}
        out["content"] = {media: {"schema": dict(schema)} for media in (answer.media_type, *answer.also)}
    return out
