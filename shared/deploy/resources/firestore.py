"""The Firestore database, its composite indexes and its TTL policies.

Indexes and TTL fields are found with one ``list`` each (the runner runs an identical probe once)
and created only when missing; both builds run server-side (``--async``), so a deploy does not
wait minutes for them. Single-field indexes are automatic and not managed here.
"""

from __future__ import annotations

import json

from shared.deploy.commands import Gcloud, Probe, Step
from shared.deploy.context import DeployContext
from shared.deploy.infra import IndexSpec, Infra


def _has_index(listing: str, index: IndexSpec) -> bool:
    try:
        found = json.loads(listing or "[]")
    except ValueError:
        return False
    wanted = [(path, order) for path, order in index.fields]
    for item in found if isinstance(found, list) else []:
        name = str(item.get("name", ""))
        fields = [(f.get("fieldPath"), f.get("order")) for f in item.get("fields", []) if f.get("fieldPath") != "__name__"]
        if (f"/collectionGroups/{index.collection_group}/" in name
                and item.get("queryScope", "COLLECTION") == index.query_scope and fields == wanted):
            return True
    return False


def _has_ttl(listing: str, group: str, field: str) -> bool:
    suffix = f"/collectionGroups/{group}/fields/{field}"
    return any(line.strip().endswith(suffix) for line in listing.splitlines())


def items(infra: Infra, ctx: DeployContext) -> list[Step]:
    gcloud = Gcloud(ctx.project)
    spec = infra.firestore
    database = f"--database={spec.database}"
    steps = [Step(
        title=f"Firestore database {spec.database}",
        probe=Probe(gcloud("firestore", "databases", "describe", database)),
        absent=(gcloud("firestore", "databases", "create", database,
                       f"--location={ctx.expand(spec.location, 'firestore.json: location')}", f"--type={spec.type}"),),
        hint="creating the database needs roles/datastore.owner",
    )]
    listing = gcloud("firestore", "indexes", "composite", "list", database, "--format=json")
    for index in spec.indexes:
        configs = [f"--field-config=field-path={path},order={order.lower()}" for path, order in index.fields]
        steps.append(Step(
            title=f"Firestore index {index.collection_group}({', '.join(p for p, _ in index.fields)})",
            probe=Probe(listing, test=lambda out, index=index: _has_index(out, index)),
            absent=(gcloud("firestore", "indexes", "composite", "create", f"--collection-group={index.collection_group}",
                           f"--query-scope={index.query_scope.lower().replace('_', '-')}", *configs, database, "--async"),),
            hint="managing indexes needs roles/datastore.indexAdmin",
        ))
    ttls = gcloud("firestore", "fields", "ttls", "list", database, "--format=value(name)")
    for group, field in spec.ttl_fields:
        steps.append(Step(
            title=f"Firestore TTL {group}.{field}",
            probe=Probe(ttls, test=lambda out, g=group, f=field: _has_ttl(out, g, f)),
            absent=(gcloud("firestore", "fields", "ttls", "update", field, f"--collection-group={group}",
                           "--enable-ttl", database, "--async"),),
            hint="TTL policies need roles/datastore.indexAdmin",
        ))
    return steps
