"""infra/*.json read into typed, cross-checked definitions (no placeholders filled yet).

Every problem is an :class:`~shared.deploy.errors.InfraInvalid` that names the file and the key,
e.g. ``queues.json: queues.sync.max_attempts must be an integer >= 1``. Cross-references are
checked too: a function's service account and secrets, a job's function, a queue role's queue.
Keys starting with ``_`` are comments.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from shared.deploy.errors import InfraInvalid

ADAPTERS = ("documents", "secrets", "blobs", "tasks")
_NAME = re.compile(r"^[a-z][a-z0-9-]{0,61}[a-z0-9]$")
_FUNCTION = re.compile(r"^[a-z][a-z0-9_]{0,30}$")
_SA = re.compile(r"^[a-z][a-z0-9-]{4,28}[a-z0-9]$")
_DURATION = re.compile(r"^[0-9]+(\.[0-9]+)?s$")
_ENV = re.compile(r"^[A-Z][A-Z0-9_]*$")


@dataclass(frozen=True)
class FunctionSpec:
    name: str
    description: str
    entry_point: str
    memory: str
    cpu: str
    timeout: str
    min_instances: int
    max_instances: int
    concurrency: int
    service_account: str
    secrets: tuple[str, ...]          # mounted as env vars (common + own)
    runtime_secrets: tuple[str, ...]  # read at run time through shared/secrets
    adapters: tuple[str, ...]
    env: dict[str, str]               # common + own, placeholders unfilled
    embedding_model: bool = False


@dataclass(frozen=True)
class SecretSpec:
    name: str
    description: str
    env: str | None = None
    runtime: bool = False
    optional: bool = False
    generate: str | None = None


@dataclass(frozen=True)
class QueueSpec:
    name: str
    description: str
    max_dispatches_per_second: float
    max_concurrent_dispatches: int
    max_attempts: int
    min_backoff: str
    max_backoff: str
    max_doublings: int


@dataclass(frozen=True)
class JobSpec:
    name: str
    description: str
    schedule: str
    function: str
    path: str
    attempt_deadline: str
    max_retry_attempts: int


@dataclass(frozen=True)
class BucketSpec:
    name: str
    location: str
    uniform_access: bool
    public_access_prevention: bool
    versioning: bool
    soft_delete_duration: str | None
    lifecycle: dict[str, Any]


@dataclass(frozen=True)
class IndexSpec:
    collection_group: str
    query_scope: str  # COLLECTION | COLLECTION_GROUP
    fields: tuple[tuple[str, str], ...]  # (field path, ASCENDING | DESCENDING)


@dataclass(frozen=True)
class FirestoreSpec:
    database: str
    location: str
    type: str
    indexes: tuple[IndexSpec, ...]
    ttl_fields: tuple[tuple[str, str], ...]  # (collection group, field)


@dataclass(frozen=True)
class IamSpec:
    service_accounts: dict[str, str]                       # name -> display name
    project_roles: tuple[tuple[str, str], ...]             # (member, role)
    bucket_roles: tuple[tuple[str, str], ...]              # (member, role)
    queue_roles: tuple[tuple[str, str, str], ...]          # (queue, member, role)
    service_account_roles: tuple[tuple[str, str, str], ...]  # (service account, member, role)
    function_invokers: tuple[tuple[str, str], ...]         # (function, member)


@dataclass(frozen=True)
class Infra:
    """Everything in infra/, as read."""

    root: Path
    apis: tuple[str, ...]
    runtime: str
    url_template: str
    invoker_service_account: str
    functions: dict[str, FunctionSpec]
    secrets: dict[str, SecretSpec]
    queues: dict[str, QueueSpec]
    time_zone: str
    scheduler_service_account: str
    jobs: tuple[JobSpec, ...]
    bucket: BucketSpec
    firestore: FirestoreSpec
    iam: IamSpec
    metrics: dict[str, dict[str, Any]] = field(default_factory=dict)   # name -> LogMetric body
    policies: dict[str, dict[str, Any]] = field(default_factory=dict)  # file stem -> AlertPolicy body

    def secret_accessors(self) -> list[tuple[str, str]]:
        """(secret, service account) pairs: each function's account may read exactly the secrets it
        mounts or reads, and no other."""
        pairs = {(secret, spec.service_account) for spec in self.functions.values()
                 for secret in (*spec.secrets, *spec.runtime_secrets)}
        return sorted(pairs)


# --- reading -------------------------------------------------------------------------------------
class _Reader:
    """Typed access to one JSON object, with errors naming ``file: key.path``."""

    def __init__(self, data: Any, where: str) -> None:
        if not isinstance(data, dict):
            raise InfraInvalid(f"{where} must be a JSON object.", field=where)
        self.data = {k: v for k, v in data.items() if not k.startswith("_")}
        self.where = where

    def _key(self, key: str) -> str:
        return f"{self.where}.{key}" if ":" in self.where else f"{self.where}: {key}"

    def _fail(self, key: str, what: str) -> InfraInvalid:
        return InfraInvalid(f"{self._key(key)} {what}.", field=self._key(key))

    def sub(self, key: str) -> _Reader:
        return _Reader(self.data.get(key, {}), self._key(key))

    def str(self, key: str, default: str | None = None, pattern: re.Pattern[str] | None = None) -> str:
        value = self.data.get(key, default)
        if not isinstance(value, str) or not value:
            raise self._fail(key, "must be a non-empty string")
        if pattern is not None and not pattern.match(value):
            raise self._fail(key, f"is not valid ({value!r})")
        return value

    def int(self, key: str, minimum: int = 0, default: int | None = None) -> int:
        value = self.data.get(key, default)
        if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
            raise self._fail(key, f"must be an integer >= {minimum}")
        return value

    def number(self, key: str) -> float:
        value = self.data.get(key)
        if isinstance(value, bool) or not isinstance(value, (int, float)) or value <= 0:
            raise self._fail(key, "must be a number > 0")
        return value

    def bool(self, key: str, default: bool = False) -> bool:
        value = self.data.get(key, default)
        if not isinstance(value, bool):
            raise self._fail(key, "must be true or false")
        return value

    def duration(self, key: str, default: str | None = None) -> str:
        return self.str(key, default, _DURATION)

    def strings(self, key: str, default: list[str] | None = None) -> tuple[str, ...]:
        value = self.data.get(key, default)
        if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
            raise self._fail(key, "must be a list of strings")
        return tuple(value)

    def mapping(self, key: str, default: dict | None = None) -> dict[str, Any]:
        value = self.data.get(key, default)
        if not isinstance(value, dict):
            raise self._fail(key, "must be a JSON object")
        return {k: v for k, v in value.items() if not k.startswith("_")}


def _load(root: Path, name: str) -> Any:
    path = root / name
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise InfraInvalid(f"{name} is missing from {root}.", field=name) from None
    except ValueError as exc:
        raise InfraInvalid(f"{name} is not valid JSON: {exc}.", field=name) from None


def load_infra(root: Path) -> Infra:
    """Read and check every file of ``root`` (the repository's infra/ folder)."""
    root = Path(root)
    apis = _Reader(_load(root, "apis.json"), "apis.json").strings("apis")
    functions_doc = _Reader(_load(root, "functions.json"), "functions.json")
    secrets = _read_secrets(_Reader(_load(root, "secrets.json"), "secrets.json"))
    functions = _read_functions(functions_doc)
    queues = _read_queues(_Reader(_load(root, "queues.json"), "queues.json"))
    scheduler = _Reader(_load(root, "scheduler.json"), "scheduler.json")
    infra = Infra(
        root=root,
        apis=apis,
        runtime=functions_doc.str("runtime", pattern=re.compile(r"^python3[0-9]+$")),
        url_template=functions_doc.str("url"),
        invoker_service_account=functions_doc.str("invoker_service_account", pattern=_SA),
        functions=functions,
        secrets=secrets,
        queues=queues,
        time_zone=scheduler.str("time_zone", "Etc/UTC"),
        scheduler_service_account=scheduler.str("oidc_service_account", pattern=_SA),
        jobs=_read_jobs(scheduler),
        bucket=_read_bucket(_Reader(_load(root, "storage.json"), "storage.json")),
        firestore=_read_firestore(_Reader(_load(root, "firestore.json"), "firestore.json"),
                                  _Reader(_load(root, "firestore.indexes.json"), "firestore.indexes.json")),
        iam=_read_iam(_Reader(_load(root, "iam.json"), "iam.json")),
        metrics=_read_metrics(root / "alerts" / "metrics"),
        policies=_read_policies(root / "alerts"),
    )
    _cross_check(infra)
    return infra


def _read_functions(doc: _Reader) -> dict[str, FunctionSpec]:
    common = doc.sub("common")
    common_env = common.mapping("env", {})
    common_secrets = common.strings("secrets", [])
    found: dict[str, FunctionSpec] = {}
    for name, raw in doc.mapping("functions").items():
        if not _FUNCTION.match(name):
            raise InfraInvalid(f"functions.json: functions.{name} is not a valid function name.", field=name)
        spec = _Reader(raw, f"functions.json: functions.{name}")
        env = {**common_env, **spec.mapping("env", {})}
        for key, value in env.items():
            if not _ENV.match(key) or not isinstance(value, str):
                raise InfraInvalid(f"functions.json: functions.{name}.env.{key} must be an UPPER_CASE name with a "
                                   "string value.", field=f"functions.{name}.env.{key}")
        adapters = spec.strings("adapters", [])
        for adapter in adapters:
            if adapter not in ADAPTERS:
                raise InfraInvalid(f"functions.json: functions.{name}.adapters lists {adapter!r}; known: "
                                   f"{', '.join(ADAPTERS)}.", field=f"functions.{name}.adapters")
        min_instances = spec.int("min_instances", 0, 0)
        max_instances = spec.int("max_instances", 1)
        if max_instances < min_instances:
            raise InfraInvalid(f"functions.json: functions.{name}.max_instances is below min_instances.",
                               field=f"functions.{name}.max_instances")
        found[name] = FunctionSpec(
            name=name,
            description=spec.str("description", name),
            entry_point=spec.str("entry_point", name, _FUNCTION),
            memory=spec.str("memory", pattern=re.compile(r"^[0-9]+(Mi|Gi)$")),
            cpu=spec.str("cpu", "1", re.compile(r"^[0-9.]+$")),
            timeout=spec.duration("timeout"),
            min_instances=min_instances,
            max_instances=max_instances,
            concurrency=spec.int("concurrency", 1, 1),
            service_account=spec.str("service_account", pattern=_SA),
            secrets=tuple(dict.fromkeys((*common_secrets, *spec.strings("secrets", [])))),
            runtime_secrets=spec.strings("runtime_secrets", []),
            adapters=adapters,
            env=env,
            embedding_model=spec.bool("embedding_model"),
        )
    if not found:
        raise InfraInvalid("functions.json: functions must define at least one function.", field="functions")
    return found


def _read_secrets(doc: _Reader) -> dict[str, SecretSpec]:
    found = {}
    for name, raw in doc.mapping("secrets").items():
        if not _NAME.match(name):
            raise InfraInvalid(f"secrets.json: secrets.{name} is not a valid secret name.", field=name)
        spec = _Reader(raw, f"secrets.json: secrets.{name}")
        env = spec.str("env", pattern=_ENV) if "env" in spec.data else None
        runtime = spec.bool("runtime")
        if (env is None) == (not runtime):
            raise InfraInvalid(f"secrets.json: secrets.{name} must have either an env variable or runtime: true.",
                               field=f"secrets.{name}")
        found[name] = SecretSpec(name=name, description=spec.str("description"), env=env, runtime=runtime,
                                 optional=spec.bool("optional"),
                                 generate=spec.str("generate") if "generate" in spec.data else None)
    return found


def _read_queues(doc: _Reader) -> dict[str, QueueSpec]:
    found = {}
    for name, raw in doc.mapping("queues").items():
        if not _NAME.match(name) and not re.match(r"^[a-z]{1,62}$", name):
            raise InfraInvalid(f"queues.json: queues.{name} is not a valid queue name.", field=name)
        spec = _Reader(raw, f"queues.json: queues.{name}")
        found[name] = QueueSpec(
            name=name,
            description=spec.str("description", name),
            max_dispatches_per_second=spec.number("max_dispatches_per_second"),
            max_concurrent_dispatches=spec.int("max_concurrent_dispatches", 1),
            max_attempts=spec.int("max_attempts", 1),
            min_backoff=spec.duration("min_backoff"),
            max_backoff=spec.duration("max_backoff"),
            max_doublings=spec.int("max_doublings", 0),
        )
    return found


def _read_jobs(doc: _Reader) -> tuple[JobSpec, ...]:
    jobs = doc.data.get("jobs")
    if not isinstance(jobs, list):
        raise InfraInvalid("scheduler.json: jobs must be a list.", field="jobs")
    found = []
    for i, raw in enumerate(jobs):
        spec = _Reader(raw, f"scheduler.json: jobs[{i}]")
        found.append(JobSpec(
            name=spec.str("name", pattern=_NAME),
            description=spec.str("description", ""),
            schedule=spec.str("schedule", pattern=re.compile(r"^\S+( \S+){4}$")),
            function=spec.str("function"),
            path=spec.str("path", pattern=re.compile(r"^/[A-Za-z0-9/_-]*$")),
            attempt_deadline=spec.duration("attempt_deadline", "180s"),
            max_retry_attempts=spec.int("max_retry_attempts", 0, 0),
        ))
    return tuple(found)


def _read_bucket(doc: _Reader) -> BucketSpec:
    lifecycle = doc.mapping("lifecycle", {"rule": []})
    if not isinstance(lifecycle.get("rule"), list):
        raise InfraInvalid("storage.json: lifecycle.rule must be a list.", field="lifecycle.rule")
    return BucketSpec(
        name=doc.str("name"),
        location=doc.str("location"),
        uniform_access=doc.bool("uniform_access", True),
        public_access_prevention=doc.bool("public_access_prevention", True),
        versioning=doc.bool("versioning", False),
        soft_delete_duration=doc.str("soft_delete_duration") if "soft_delete_duration" in doc.data else None,
        lifecycle=lifecycle,
    )


def _read_firestore(doc: _Reader, indexes_doc: _Reader) -> FirestoreSpec:
    indexes = []
    for i, raw in enumerate(indexes_doc.data.get("indexes", [])):
        spec = _Reader(raw, f"firestore.indexes.json: indexes[{i}]")
        fields = []
        for j, field_raw in enumerate(raw.get("fields", []) if isinstance(raw, dict) else []):
            item = _Reader(field_raw, f"firestore.indexes.json: indexes[{i}].fields[{j}]")
            fields.append((item.str("fieldPath"), item.str("order", pattern=re.compile(r"^(ASCENDING|DESCENDING)$"))))
        if len(fields) < 2:
            raise InfraInvalid(f"firestore.indexes.json: indexes[{i}].fields needs at least two fields "
                               "(single-field indexes are automatic).", field=f"indexes[{i}].fields")
        indexes.append(IndexSpec(spec.str("collectionGroup"),
                                 spec.str("queryScope", "COLLECTION", re.compile(r"^(COLLECTION|COLLECTION_GROUP)$")),
                                 tuple(fields)))
    ttl = []
    for i, raw in enumerate(indexes_doc.data.get("fieldOverrides", [])):
        spec = _Reader(raw, f"firestore.indexes.json: fieldOverrides[{i}]")
        if spec.bool("ttl"):
            ttl.append((spec.str("collectionGroup"), spec.str("fieldPath")))
    return FirestoreSpec(database=doc.str("database", "(default)"), location=doc.str("location"),
                         type=doc.str("type", "firestore-native", re.compile(r"^(firestore-native|datastore-mode)$")),
                         indexes=tuple(indexes), ttl_fields=tuple(ttl))


def _pairs(doc: _Reader, key: str, names: tuple[str, ...]) -> tuple[tuple[str, ...], ...]:
    items = doc.data.get(key, [])
    if not isinstance(items, list):
        raise InfraInvalid(f"iam.json: {key} must be a list.", field=key)
    return tuple(tuple(_Reader(raw, f"iam.json: {key}[{i}]").str(name) for name in names) for i, raw in enumerate(items))


def _read_iam(doc: _Reader) -> IamSpec:
    accounts = doc.mapping("service_accounts")
    for name, display in accounts.items():
        if not _SA.match(name) or not isinstance(display, str):
            raise InfraInvalid(f"iam.json: service_accounts.{name} must be a 6-30 character account name with a "
                               "display name.", field=f"service_accounts.{name}")
    return IamSpec(
        service_accounts=accounts,
        project_roles=_pairs(doc, "project_roles", ("member", "role")),
        bucket_roles=_pairs(doc, "bucket_roles", ("member", "role")),
        queue_roles=_pairs(doc, "queue_roles", ("queue", "member", "role")),
        service_account_roles=_pairs(doc, "service_account_roles", ("service_account", "member", "role")),
        function_invokers=_pairs(doc, "function_invokers", ("function", "member")),
    )


def _read_metrics(folder: Path) -> dict[str, dict[str, Any]]:
    found = {}
    for path in sorted(folder.glob("*.json")):
        body = _Reader(_load(folder, path.name), f"alerts/metrics/{path.name}")
        name = body.str("name", pattern=re.compile(r"^[a-z][a-z0-9_]{0,99}$"))
        if name != path.stem:
            raise InfraInvalid(f"alerts/metrics/{path.name}: name must be the file's name ({path.stem}).", field="name")
        body.str("filter")
        found[name] = _load(folder, path.name)
    return found


def _read_policies(folder: Path) -> dict[str, dict[str, Any]]:
    found = {}
    for path in sorted(folder.glob("*.json")):
        body = _Reader(_load(folder, path.name), f"alerts/{path.name}")
        body.str("displayName")
        if not isinstance(body.data.get("conditions"), list) or not body.data["conditions"]:
            raise InfraInvalid(f"alerts/{path.name}: conditions must be a non-empty list.", field="conditions")
        found[path.stem] = _load(folder, path.name)
    names = [policy["displayName"] for policy in found.values()]
    if len(set(names)) != len(names):
        raise InfraInvalid("alerts/: two alert policies share a displayName (deploy finds policies by it).",
                           field="displayName")
    return found


def _cross_check(infra: Infra) -> None:
    accounts = infra.iam.service_accounts
    for account in (infra.invoker_service_account, infra.scheduler_service_account):
        if account not in accounts:
            raise InfraInvalid(f"{account} is used as the task/scheduler caller but iam.json does not define it.",
                               field="service_accounts")
    for spec in infra.functions.values():
        where = f"functions.json: functions.{spec.name}"
        if spec.service_account not in accounts:
            raise InfraInvalid(f"{where}.service_account {spec.service_account} is not in iam.json service_accounts.",
                               field=f"functions.{spec.name}.service_account")
        for secret in spec.secrets:
            if secret not in infra.secrets or infra.secrets[secret].env is None:
                raise InfraInvalid(f"{where}: secret {secret} is not an env secret of secrets.json.",
                                   field=f"functions.{spec.name}.secrets")
        for secret in spec.runtime_secrets:
            if secret not in infra.secrets or not infra.secrets[secret].runtime:
                raise InfraInvalid(f"{where}: secret {secret} is not a runtime secret of secrets.json.",
                                   field=f"functions.{spec.name}.runtime_secrets")
    for job in infra.jobs:
        if job.function not in infra.functions:
            raise InfraInvalid(f"scheduler.json: job {job.name} targets unknown function {job.function}.",
                               field=f"jobs.{job.name}.function")
    members = [m for m, _ in infra.iam.project_roles] + [m for m, _ in infra.iam.bucket_roles]
    members += [m for _, m, _ in infra.iam.queue_roles] + [m for _, m, _ in infra.iam.service_account_roles]
    members += [m for _, m in infra.iam.function_invokers]
    members += [sa for sa, _, _ in infra.iam.service_account_roles]
    for member in members:
        if member not in accounts:
            raise InfraInvalid(f"iam.json: {member} is not one of its service_accounts.", field="service_accounts")
    for queue, _, _ in infra.iam.queue_roles:
        if queue not in infra.queues:
            raise InfraInvalid(f"iam.json: queue_roles names unknown queue {queue}.", field="queue_roles")
    for function, _ in infra.iam.function_invokers:
        if function not in infra.functions:
            raise InfraInvalid(f"iam.json: function_invokers names unknown function {function}.",
                               field="function_invokers")
