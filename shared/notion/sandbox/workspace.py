"""One sandbox workspace: its pages, databases, data sources and blocks, and what the API does to them.

Objects are stored in their response shape (2025-09-03) and handed out as deep copies. Every
change reports an event (``page.created``, ``page.properties_updated``, ...) through ``on_event``
so the sandbox can queue the webhooks Notion would send.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from datetime import datetime
from typing import Any

from shared.notion.sandbox import shapes as S
from shared.notion.sandbox.query import matches, paginate, sort_pages
from shared.notion.sandbox.shapes import SandboxError, validation

Actor = dict[str, str]  # {"id": user id, "type": "bot" | "person"}
EventSink = Callable[["Workspace", str, dict[str, Any], dict[str, Any], Actor], None]

MAX_CHILDREN = 100
_ARCHIVED = "Can't edit block that is archived. You must unarchive the block before editing."


def _noop(*_: Any) -> None:
    return None


class Workspace:
    """A Notion workspace with the integration installed (every object is shared with it)."""

    def __init__(
        self,
        *,
        workspace_id: str,
        name: str,
        bot_id: str,
        integration_name: str,
        person: dict[str, Any],
        now: Callable[[], datetime],
        on_event: EventSink = _noop,
        icon: str | None = None,
    ) -> None:
        self.id = workspace_id
        self.name = name
        self.icon = icon
        self.bot_id = bot_id
        self.integration_name = integration_name
        self.person = person
        self.now = now
        self.on_event = on_event
        self.pages: dict[str, dict[str, Any]] = {}
        self.databases: dict[str, dict[str, Any]] = {}
        self.data_sources: dict[str, dict[str, Any]] = {}
        self.blocks: dict[str, dict[str, Any]] = {}
        self.children: dict[str, list[str]] = {}
        self.demo: dict[str, str] = {}  # ids of the seeded demo objects

    # --- persistence ----------------------------------------------------------------------------

    _STATE = ("id", "name", "icon", "bot_id", "integration_name", "person", "pages", "databases", "data_sources", "blocks", "children", "demo")

    def to_dict(self) -> dict[str, Any]:
        return {key: copy.deepcopy(getattr(self, key)) for key in self._STATE}

    @classmethod
    def from_dict(cls, data: dict[str, Any], *, now: Callable[[], datetime], on_event: EventSink = _noop) -> "Workspace":
        ws = cls(
            workspace_id=data["id"], name=data["name"], bot_id=data["bot_id"], integration_name=data["integration_name"],
            person=data["person"], now=now, on_event=on_event, icon=data.get("icon"),
        )
        for key in ("pages", "databases", "data_sources", "blocks", "children", "demo"):
            setattr(ws, key, copy.deepcopy(data.get(key, {})))
        return ws

    # --- actors and users -------------------------------------------------------------------------

    @property
    def bot(self) -> Actor:
        return {"id": self.bot_id, "type": "bot"}

    @property
    def user(self) -> Actor:
        return {"id": self.person["id"], "type": "person"}

    def bot_user(self) -> dict[str, Any]:
        """``GET /v1/users/me`` for a token of this workspace."""
        return {
            "object": "user",
            "id": self.bot_id,
            "name": self.integration_name,
            "avatar_url": None,
            "type": "bot",
            "bot": {
                "owner": {"type": "user", "user": copy.deepcopy(self.person)},
                "workspace_name": self.name,
                "workspace_id": self.id,
                "workspace_limits": {"max_file_upload_size_in_bytes": 5242880},
            },
        }

    def _emit(self, event_type: str, entity: dict[str, Any], data: dict[str, Any], actor: Actor) -> None:
        self.on_event(self, event_type, entity, data, actor)

    # --- lookups -----------------------------------------------------------------------------------

    def page(self, page_id: Any) -> dict[str, Any]:
        found = self.pages.get(S.canonical_id(page_id) or "")
        if found is None:
            raise S.not_found("page", str(page_id))
        return found

    def database(self, database_id: Any) -> dict[str, Any]:
        found = self.databases.get(S.canonical_id(database_id) or "")
        if found is None:
            raise S.not_found("database", str(database_id))
        return found

    def data_source(self, data_source_id: Any) -> dict[str, Any]:
        found = self.data_sources.get(S.canonical_id(data_source_id) or "")
        if found is None:
            raise S.not_found("data_source", str(data_source_id))
        return found

    def _container(self, block_id: Any) -> dict[str, Any]:
        """A page or block that can hold children."""
        key = S.canonical_id(block_id) or ""
        found = self.pages.get(key) or self.blocks.get(key)
        if found is None:
            raise S.not_found("block", str(block_id))
        return found

    # --- pages ------------------------------------------------------------------------------------

    def create_page(self, body: dict[str, Any], actor: Actor) -> dict[str, Any]:
        parent = body.get("parent")
        if not isinstance(parent, dict):
            raise validation("body failed validation: body.parent should be defined, instead was `undefined`.")
        now = self.now()
        page_id = S.new_id()
        page: dict[str, Any] = {
            "object": "page",
            "id": page_id,
            "created_time": S.page_timestamp(now),
            "last_edited_time": S.page_timestamp(now),
            "created_by": S.user_ref(actor["id"]),
            "last_edited_by": S.user_ref(actor["id"]),
            "cover": copy.deepcopy(body.get("cover")),
            "icon": copy.deepcopy(body.get("icon")),
            "parent": None,
            "in_trash": False,
            "is_archived": False,
            "is_locked": False,
            "properties": {},
            "url": "",
            "public_url": None,
            "archived": False,
        }
        properties = body.get("properties") or {}
        if not isinstance(properties, dict):
            raise validation("body failed validation: body.properties should be an object.")
        if "data_source_id" in parent or "database_id" in parent:
            source = self._parent_data_source(parent)
            if source["in_trash"]:
                raise validation(_ARCHIVED)
            page["parent"] = {"type": "data_source_id", "data_source_id": source["id"], "database_id": source["parent"]["database_id"]}
            page["properties"] = self._initial_properties(source["properties"], page)
            self._set_properties(page, source["properties"], properties)
            container_id = None
        elif "page_id" in parent:
            parent_page = self.page(parent["page_id"])
            if parent_page["in_trash"]:
                raise validation(_ARCHIVED)
            page["parent"] = {"type": "page_id", "page_id": parent_page["id"]}
            page["properties"] = {"title": {"id": "title", "type": "title", "title": []}}
            unknown = [name for name in properties if name not in ("title", "Title")]
            if unknown:
                raise validation(f"{unknown[0]} is not a property that exists.")
            title = properties.get("title", properties.get("Title"))
            if title is not None:
                page["properties"]["title"]["title"] = S.property_value("title", page["properties"]["title"] | {"type": "title"}, title)
            container_id = parent_page["id"]
        elif parent.get("type") == "workspace" or parent.get("workspace") is True:
            page["parent"] = {"type": "workspace", "workspace": True}
            page["properties"] = {"title": {"id": "title", "type": "title", "title": []}}
            if "title" in properties:
                page["properties"]["title"]["title"] = S.property_value("title", {"type": "title"}, properties["title"])
            container_id = None
        else:
            raise validation("body failed validation: body.parent should be a data_source_id, database_id or page_id parent.")
        page["url"] = S.notion_url(page_id, self._title_of(page))
        children = body.get("children") or []
        if len(children) > MAX_CHILDREN:
            raise validation(f"body failed validation: body.children.length should be ≤ `{MAX_CHILDREN}`, instead was `{len(children)}`.")
        self.pages[page_id] = page
        self.children[page_id] = []
        if container_id:
            self.children.setdefault(container_id, []).append(page_id)
        try:
            self._add_blocks(page_id, children, actor, "body.children")
        except SandboxError:
            self._forget_page(page_id, container_id)
            raise
        self._emit("page.created", {"id": page_id, "type": "page"}, {"parent": self._parent_ref(page)}, actor)
        return copy.deepcopy(page)

    def _forget_page(self, page_id: str, container_id: str | None) -> None:
        self.pages.pop(page_id, None)
        for block_id in self.children.pop(page_id, []):
            self.blocks.pop(block_id, None)
        if container_id and page_id in self.children.get(container_id, []):
            self.children[container_id].remove(page_id)

    def _parent_data_source(self, parent: dict[str, Any]) -> dict[str, Any]:
        if "data_source_id" in parent:
            return self.data_source(parent["data_source_id"])
        database = self.database(parent["database_id"])
        sources = database["data_sources"]
        if len(sources) != 1:
            raise validation("Databases with multiple data sources are not supported in this API version; use a data_source_id parent.")
        return self.data_source(sources[0]["id"])

    def _initial_properties(self, schema: dict[str, Any], page: dict[str, Any]) -> dict[str, Any]:
        values = {}
        for name, prop in schema.items():
            kind = prop["type"]
            value = S.empty_value(prop, page)
            if kind == "unique_id":
                prop.setdefault("_next", 1)
                value = {"prefix": prop["unique_id"].get("prefix"), "number": prop["_next"]}
                prop["_next"] += 1
            values[name] = {"id": prop["id"], "type": kind, kind: value}
        return values

    def _set_properties(self, page: dict[str, Any], schema: dict[str, Any], request: dict[str, Any]) -> list[str]:
        """Apply request values to ``page``; return the ids of the properties that changed."""
        by_id = {prop["id"]: name for name, prop in schema.items()}
        converted = {}
        for key, value in request.items():
            name = key if key in schema else by_id.get(key)
            if name is None:
                raise validation(f"{key} is not a property that exists.")
            converted[name] = S.property_value(name, schema[name], value)  # validate all before applying
        for name, value in converted.items():
            kind = schema[name]["type"]
            page["properties"][name] = {"id": schema[name]["id"], "type": kind, kind: value}
        return [schema[name]["id"] for name in converted]

    def _touch(self, page: dict[str, Any], actor: Actor) -> None:
        page["last_edited_time"] = S.page_timestamp(self.now())
        page["last_edited_by"] = S.user_ref(actor["id"])
        for prop in page["properties"].values():
            if prop["type"] == "last_edited_time":
                prop["last_edited_time"] = page["last_edited_time"]
            elif prop["type"] == "last_edited_by":
                prop["last_edited_by"] = page["last_edited_by"]

    def retrieve_page(self, page_id: Any) -> dict[str, Any]:
        return copy.deepcopy(self.page(page_id))

    def update_page(self, page_id: Any, body: dict[str, Any], actor: Actor) -> dict[str, Any]:
        page = self.page(page_id)
        trash = body.get("in_trash", body.get("archived"))
        if trash is not None and not isinstance(trash, bool):
            raise validation("body failed validation: body.in_trash should be a boolean.")
        properties = body.get("properties")
        if page["in_trash"] and trash is not False and (properties or "icon" in body or "cover" in body):
            raise validation(_ARCHIVED)
        changed: list[str] = []
        if properties:
            if not isinstance(properties, dict):
                raise validation("body failed validation: body.properties should be an object.")
            if page["parent"]["type"] == "data_source_id":
                schema = self.data_source(page["parent"]["data_source_id"])["properties"]
            else:
                schema = {"title": {"id": "title", "name": "title", "type": "title", "title": {}}}
            changed = self._set_properties(page, schema, properties)
        for key in ("icon", "cover"):
            if key in body:
                page[key] = copy.deepcopy(body[key])
        was_trashed = page["in_trash"]
        if trash is not None:
            page["in_trash"] = page["archived"] = trash
        if changed or trash is not None or "icon" in body or "cover" in body:
            self._touch(page, actor)
            page["url"] = S.notion_url(page["id"], self._title_of(page))
        entity = {"id": page["id"], "type": "page"}
        parent = self._parent_ref(page)
        if changed:
            self._emit("page.properties_updated", entity, {"parent": parent, "updated_properties": changed}, actor)
        if trash is True and not was_trashed:
            self._emit("page.deleted", entity, {"parent": parent}, actor)
        elif trash is False and was_trashed:
            self._emit("page.undeleted", entity, {"parent": parent}, actor)
        return copy.deepcopy(page)

    @staticmethod
    def _title_of(page: dict[str, Any]) -> str:
        for prop in page["properties"].values():
            if prop["type"] == "title":
                return S.plain_text(prop["title"])
        return ""

    def _parent_ref(self, page: dict[str, Any]) -> dict[str, Any]:
        """The ``data.parent`` of a webhook event about ``page``."""
        parent = page["parent"]
        if parent["type"] == "data_source_id":
            return {"id": parent["database_id"], "type": "database", "data_source_id": parent["data_source_id"]}
        if parent["type"] == "page_id":
            return {"id": parent["page_id"], "type": "page"}
        if parent["type"] == "block_id":
            return {"id": parent["block_id"], "type": "block"}
        return {"id": self.id, "type": "space"}

    # --- databases and data sources ---------------------------------------------------------------

    def create_database(self, body: dict[str, Any], actor: Actor) -> dict[str, Any]:
        parent = body.get("parent")
        if not isinstance(parent, dict) or "page_id" not in parent:
            raise validation("body failed validation: body.parent.page_id should be defined.")
        parent_page = self.page(parent["page_id"])
        if parent_page["in_trash"]:
            raise validation(_ARCHIVED)
        title = S.rich_text(body.get("title") or [], "body.title")
        initial = body.get("initial_data_source") or {}
        if not isinstance(initial, dict):
            raise validation("body failed validation: body.initial_data_source should be an object.")
        schema = S.data_source_properties(initial.get("properties"))
        now = self.now()
        database_id, source_id = S.new_id(), S.new_id()
        name = S.plain_text(title)
        database = {
            "object": "database",
            "id": database_id,
            "title": title,
            "description": S.rich_text(body.get("description") or [], "body.description"),
            "parent": {"type": "page_id", "page_id": parent_page["id"]},
            "is_inline": bool(body.get("is_inline", False)),
            "in_trash": False,
            "is_locked": False,
            "created_time": S.database_timestamp(now),
            "last_edited_time": S.database_timestamp(now),
            "data_sources": [{"id": source_id, "name": name}],
            "icon": copy.deepcopy(body.get("icon")),
            "cover": copy.deepcopy(body.get("cover")),
            "url": S.notion_url(database_id),
            "public_url": None,
            "archived": False,
        }
        source = {
            "object": "data_source",
            "id": source_id,
            "cover": copy.deepcopy(body.get("cover")),
            "icon": copy.deepcopy(initial.get("icon", body.get("icon"))),
            "created_time": S.page_timestamp(now),
            "created_by": S.user_ref(actor["id"]),
            "last_edited_by": S.user_ref(actor["id"]),
            "last_edited_time": S.page_timestamp(now),
            "title": copy.deepcopy(title),
            "description": [],
            "is_inline": database["is_inline"],
            "properties": schema,
            "parent": {"type": "database_id", "database_id": database_id},
            "database_parent": {"type": "page_id", "page_id": parent_page["id"]},
            "url": S.notion_url(database_id),
            "public_url": None,
            "in_trash": False,
            "archived": False,
        }
        self.databases[database_id] = database
        self.data_sources[source_id] = source
        self.children.setdefault(parent_page["id"], []).append(database_id)
        self._emit("database.created", {"id": database_id, "type": "database"}, {"parent": {"id": parent_page["id"], "type": "page"}}, actor)
        return copy.deepcopy(database)

    def retrieve_database(self, database_id: Any) -> dict[str, Any]:
        return copy.deepcopy(self.database(database_id))

    def retrieve_data_source(self, data_source_id: Any) -> dict[str, Any]:
        return self._public_source(self.data_source(data_source_id))

    @staticmethod
    def _public_source(source: dict[str, Any]) -> dict[str, Any]:
        public = copy.deepcopy(source)
        for prop in public["properties"].values():
            prop.pop("_next", None)
        return public

    def update_data_source(self, data_source_id: Any, body: dict[str, Any], actor: Actor) -> dict[str, Any]:
        source = self.data_source(data_source_id)
        properties = body.get("properties") or {}
        if not isinstance(properties, dict):
            raise validation("body failed validation: body.properties should be an object.")
        schema = source["properties"]
        by_id = {prop["id"]: name for name, prop in schema.items()}
        for key, spec in properties.items():
            name = key if key in schema else by_id.get(key, key)
            if spec is None:
                if name not in schema:
                    raise validation(f"{key} is not a property that exists.")
                if schema[name]["type"] == "title":
                    raise validation("The title property cannot be removed.")
                del schema[name]
                for page in self._pages_of(source["id"]):
                    page["properties"].pop(name, None)
                continue
            if not isinstance(spec, dict):
                raise validation(f"body failed validation: body.properties.{key} should be an object or null.")
            if name in schema and set(spec) <= {"name"}:  # a rename
                prop = schema.pop(name)
                prop["name"] = spec.get("name", name)
                schema[prop["name"]] = prop
                for page in self._pages_of(source["id"]):
                    page["properties"][prop["name"]] = page["properties"].pop(name)
                continue
            prop = S.property_schema(spec.get("name", name), spec, schema[name]["id"] if name in schema else None)
            if prop["type"] == "title" and any(p["type"] == "title" and n != name for n, p in schema.items()):
                raise validation("A data source has exactly one title property.")
            schema.pop(name, None)
            schema[prop["name"]] = prop
            for page in self._pages_of(source["id"]):
                kind = prop["type"]
                page["properties"].pop(name, None)
                page["properties"][prop["name"]] = {"id": prop["id"], "type": kind, kind: S.empty_value(prop, page)}
        if "title" in body:
            source["title"] = S.rich_text(body["title"] or [], "body.title")
        if "in_trash" in body or "archived" in body:
            source["in_trash"] = source["archived"] = bool(body.get("in_trash", body.get("archived")))
        source["last_edited_time"] = S.page_timestamp(self.now())
        source["last_edited_by"] = S.user_ref(actor["id"])
        self._emit("data_source.schema_updated", {"id": source["id"], "type": "data_source"}, {"parent": {"id": source["parent"]["database_id"], "type": "database"}}, actor)
        return self._public_source(source)

    def _pages_of(self, data_source_id: str) -> list[dict[str, Any]]:
        return [
            page for page in self.pages.values()
            if page["parent"]["type"] == "data_source_id" and page["parent"]["data_source_id"] == data_source_id
        ]

    def query_data_source(self, data_source_id: Any, body: dict[str, Any]) -> dict[str, Any]:
        source = self.data_source(data_source_id)
        schema = source["properties"]
        in_trash = bool(body.get("in_trash", body.get("archived", False)))
        pages = [p for p in self._pages_of(source["id"]) if p["in_trash"] == in_trash]
        if body.get("filter") is not None:
            pages = [p for p in pages if matches(p, schema, body["filter"])]
        pages = sort_pages(pages, schema, body.get("sorts"))
        chunk, cursor = paginate(pages, body.get("start_cursor"), body.get("page_size"))
        return S.list_envelope([copy.deepcopy(p) for p in chunk], cursor, "page_or_data_source")

    # --- blocks -----------------------------------------------------------------------------------

    def _add_blocks(self, parent_id: str, requests: Any, actor: Actor, where: str, after: str | None = None) -> list[str]:
        if not isinstance(requests, list):
            raise validation(f"body failed validation: {where} should be an array.")
        built = []
        for index, request in enumerate(requests):  # validate everything before storing anything
            kind, content, nested = S.block_content(request, f"{where}[{index}]")
            if nested and len(nested) > MAX_CHILDREN:
                raise validation(f"body failed validation: {where}[{index}].children.length should be ≤ `{MAX_CHILDREN}`.")
            built.append((kind, content, nested))
        now = S.page_timestamp(self.now())
        parent_is_page = parent_id in self.pages
        siblings = self.children.setdefault(parent_id, [])
        position = siblings.index(after) + 1 if after is not None else len(siblings)
        created = []
        for kind, content, nested in built:
            block_id = S.new_id()
            self.blocks[block_id] = {
                "object": "block",
                "id": block_id,
                "parent": {"type": "page_id", "page_id": parent_id} if parent_is_page else {"type": "block_id", "block_id": parent_id},
                "created_time": now,
                "last_edited_time": now,
                "created_by": S.user_ref(actor["id"]),
                "last_edited_by": S.user_ref(actor["id"]),
                "has_children": False,
                "in_trash": False,
                "type": kind,
                kind: content,
                "archived": False,
            }
            self.children[block_id] = []
            siblings.insert(position, block_id)
            position += 1
            created.append(block_id)
            if nested:
                self._add_blocks(block_id, nested, actor, f"{where}.children")
                self.blocks[block_id]["has_children"] = True
        return created

    def _block_view(self, child_id: str) -> dict[str, Any] | None:
        """The block object for one child id (a page or database shows as child_page/child_database)."""
        if child_id in self.blocks:
            return copy.deepcopy(self.blocks[child_id])
        if child_id in self.pages:
            page = self.pages[child_id]
            return self._page_as_block(page)
        if child_id in self.databases:
            database = self.databases[child_id]
            return {
                "object": "block", "id": database["id"], "parent": copy.deepcopy(database["parent"]),
                "created_time": database["created_time"], "last_edited_time": database["last_edited_time"],
                "created_by": S.user_ref(self.bot_id), "last_edited_by": S.user_ref(self.bot_id),
                "has_children": False, "in_trash": database["in_trash"], "type": "child_database",
                "child_database": {"title": S.plain_text(database["title"])}, "archived": database["in_trash"],
            }
        return None

    def _page_as_block(self, page: dict[str, Any]) -> dict[str, Any]:
        return {
            "object": "block", "id": page["id"], "parent": copy.deepcopy(page["parent"]),
            "created_time": page["created_time"], "last_edited_time": page["last_edited_time"],
            "created_by": copy.deepcopy(page["created_by"]), "last_edited_by": copy.deepcopy(page["last_edited_by"]),
            "has_children": bool(self.children.get(page["id"])), "in_trash": page["in_trash"], "type": "child_page",
            "child_page": {"title": self._title_of(page)}, "archived": page["in_trash"],
        }

    def append_children(self, block_id: Any, body: dict[str, Any], actor: Actor) -> dict[str, Any]:
        container = self._container(block_id)
        if container["in_trash"]:
            raise validation(_ARCHIVED)
        children = body.get("children")
        if not isinstance(children, list):
            raise validation("body failed validation: body.children should be defined, instead was `undefined`.")
        if len(children) > MAX_CHILDREN:
            raise validation(f"body failed validation: body.children.length should be ≤ `{MAX_CHILDREN}`, instead was `{len(children)}`.")
        after = body.get("after")
        if after is not None:
            after = S.canonical_id(after)
            if after not in self.children.get(container["id"], []):
                raise validation("body failed validation: body.after should be the id of a child block.")
        created = self._add_blocks(container["id"], children, actor, "body.children", after)
        if container["object"] == "block":
            container["has_children"] = True
        page = self._page_holding(container["id"])
        if page is not None:
            self._touch(page, actor)
            updated = [{"id": block_id, "type": "block"} for block_id in created]
            self._emit("page.content_updated", {"id": page["id"], "type": "page"}, {"parent": self._parent_ref(page), "updated_blocks": updated}, actor)
        return S.list_envelope([copy.deepcopy(self.blocks[c]) for c in created], None, "block")

    def _page_holding(self, object_id: str) -> dict[str, Any] | None:
        seen = set()
        while object_id not in self.pages and object_id in self.blocks and object_id not in seen:
            seen.add(object_id)
            parent = self.blocks[object_id]["parent"]
            object_id = parent.get("page_id") or parent.get("block_id")
        return self.pages.get(object_id)

    def list_children(self, block_id: Any, query: dict[str, Any]) -> dict[str, Any]:
        container = self._container(block_id)
        views = [v for v in (self._block_view(c) for c in self.children.get(container["id"], [])) if v and not v["in_trash"]]
        chunk, cursor = paginate(views, query.get("start_cursor"), query.get("page_size"))
        return S.list_envelope(chunk, cursor, "block")

    def delete_block(self, block_id: Any, actor: Actor) -> dict[str, Any]:
        key = S.canonical_id(block_id) or ""
        if key in self.pages:
            page = self.pages[key]
            if page["in_trash"]:
                raise validation(_ARCHIVED)
            self.update_page(key, {"in_trash": True}, actor)
            return self._page_as_block(page)
        block = self.blocks.get(key)
        if block is None:
            if key in self.databases:
                database = self.databases[key]
                database["in_trash"] = database["archived"] = True
                for source in database["data_sources"]:
                    self.data_sources[source["id"]]["in_trash"] = self.data_sources[source["id"]]["archived"] = True
                return self._block_view(key) or {}
            raise S.not_found("block", str(block_id))
        if block["in_trash"]:
            raise validation(_ARCHIVED)
        block["in_trash"] = block["archived"] = True
        block["last_edited_time"] = S.page_timestamp(self.now())
        page = self._page_holding(key)
        if page is not None:
            self._touch(page, actor)
            self._emit("page.content_updated", {"id": page["id"], "type": "page"}, {"parent": self._parent_ref(page), "updated_blocks": [{"id": key, "type": "block"}]}, actor)
        return copy.deepcopy(block)

    # --- search -----------------------------------------------------------------------------------

    def search(self, body: dict[str, Any]) -> dict[str, Any]:
        query = body.get("query") or ""
        if not isinstance(query, str):
            raise validation("body failed validation: body.query should be a string.")
        wanted = None
        if body.get("filter") is not None:
            spec = body["filter"]
            if not isinstance(spec, dict) or spec.get("property") != "object" or spec.get("value") not in ("page", "data_source"):
                raise validation('body failed validation: body.filter.value should be `"page"` or `"data_source"`.')
            wanted = spec["value"]
        found: list[dict[str, Any]] = []
        if wanted in (None, "page"):
            found += [p for p in self.pages.values() if not p["in_trash"] and query.lower() in self._title_of(p).lower()]
        if wanted in (None, "data_source"):
            found += [s for s in self.data_sources.values() if not s["in_trash"] and query.lower() in S.plain_text(s["title"]).lower()]
        sort = body.get("sort") or {"timestamp": "last_edited_time", "direction": "descending"}
        if not isinstance(sort, dict) or sort.get("timestamp") != "last_edited_time" or sort.get("direction") not in ("ascending", "descending"):
            raise validation("body failed validation: body.sort should sort by last_edited_time, ascending or descending.")
        found.sort(key=lambda o: S.parse_timestamp(o["last_edited_time"]), reverse=sort["direction"] == "descending")
        chunk, cursor = paginate(found, body.get("start_cursor"), body.get("page_size"))
        results = [self._public_source(o) if o["object"] == "data_source" else copy.deepcopy(o) for o in chunk]
        return S.list_envelope(results, cursor, "page_or_data_source")
