"""A stand-in for the ``gcloud`` CLI, put on PATH by the deploy tests (never used by the product).

Every invocation appends its arguments (a JSON list, without the leading "gcloud") to the file
named by ``FAKE_GCLOUD_LOG``, then answers from the JSON state in ``FAKE_GCLOUD_STATE`` the way the
real CLI would: ``describe``/``list`` report what exists (NOT_FOUND otherwise), ``create`` adds it
(ALREADY_EXISTS when it is there), ``update`` and ``add-iam-policy-binding`` need the resource to
exist, ``functions deploy`` records the deploy label, ``secrets versions add`` records a value
(never stored). ``state["deny"]`` lists command prefixes answered with PERMISSION_DENIED.
"""

from __future__ import annotations

import json
import os
import sys

GROUPS = {  # command words -> resource kind
    ("iam", "service-accounts"): "sa",
    ("storage", "buckets"): "bucket",
    ("secrets",): "secret",
    ("tasks", "queues"): "queue",
    ("scheduler", "jobs"): "job",
    ("logging", "metrics"): "metric",
    ("functions",): "function",
}


def main(argv: list[str]) -> int:
    with open(os.environ["FAKE_GCLOUD_LOG"], "a", encoding="utf-8") as log:
        log.write(json.dumps(argv) + "\n")
    state_path = os.environ["FAKE_GCLOUD_STATE"]
    with open(state_path, encoding="utf-8") as handle:
        state = json.load(handle)
    flags: dict[str, list[str]] = {}
    words = []
    for arg in argv:
        if arg.startswith("--"):
            key, _, value = arg[2:].partition("=")
            flags.setdefault(key, []).append(value)
        else:
            words.append(arg)
    code = answer(state, words, flags, " ".join(words))
    with open(state_path, "w", encoding="utf-8") as handle:
        json.dump(state, handle, indent=1, sort_keys=True)
    return code


def fail(message: str) -> int:
    sys.stderr.write(f"ERROR: (gcloud) {message}\n")
    return 1


def answer(state: dict, words: list[str], flags: dict[str, list[str]], line: str) -> int:
    for prefix in state.get("deny", []):
        if line.startswith(prefix):
            return fail("PERMISSION_DENIED: The caller does not have permission")
    resources: dict = state.setdefault("resources", {})
    project = flags.get("project", [""])[0]

    if words[:2] == ["auth", "list"]:
        print(state.get("account", ""))
        return 0
    if words[:2] == ["projects", "describe"]:
        if words[2] in state.get("projects", []):
            print(state.get("project_number", "123456789012"))
            return 0
        return fail(f"[user] does not have permission to access projects instance [{words[2]}] (or it may not exist)")
    if words[:2] == ["projects", "add-iam-policy-binding"] or words[:2] == ["services", "enable"]:
        return 0
    if words[:2] == ["firestore", "databases"]:
        key = "db:" + flags.get("database", ["(default)"])[0]
        return describe_or_create(resources, key, words[2])
    if words[:4] == ["firestore", "indexes", "composite", "list"]:
        print(json.dumps(resources.get("indexes", [])))
        return 0
    if words[:4] == ["firestore", "indexes", "composite", "create"]:
        fields = []
        for config in flags.get("field-config", []):
            parts = dict(part.split("=", 1) for part in config.split(","))
            fields.append({"fieldPath": parts["field-path"], "order": parts["order"].upper()})
        group = flags["collection-group"][0]
        for index in resources.get("indexes", []):
            if f"/collectionGroups/{group}/" in index["name"] and index["fields"][:-1] == fields:
                return fail("ALREADY_EXISTS: index already exists")
        number = len(resources.setdefault("indexes", [])) + 1
        resources["indexes"].append({
            "name": f"projects/{project}/databases/(default)/collectionGroups/{group}/indexes/I{number}",
            "queryScope": flags["query-scope"][0].upper().replace("-", "_"),
            "fields": fields + [{"fieldPath": "__name__", "order": fields[-1]["order"]}], "state": "CREATING"})
        return 0
    if words[:4] == ["firestore", "fields", "ttls", "list"]:
        for name in sorted(resources.get("ttls", [])):
            print(name)
        return 0
    if words[:4] == ["firestore", "fields", "ttls", "update"]:
        name = f"projects/{project}/databases/(default)/collectionGroups/{flags['collection-group'][0]}/fields/{words[4]}"
        resources.setdefault("ttls", [])
        if name not in resources["ttls"]:
            resources["ttls"].append(name)
        return 0
    if words[:2] == ["secrets", "versions"]:
        if f"secret:{words[3]}" not in resources:
            return fail(f"NOT_FOUND: Secret [{words[3]}] not found.")
        if words[2] == "list":
            if words[3] in state.get("secret_values", []):
                print(f"projects/{project}/secrets/{words[3]}/versions/1")
            return 0
        if words[2] == "add":
            sys.stdin.read()
            state.setdefault("secret_values", []).append(words[3])
            return 0
    if words[:3] == ["alpha", "monitoring", "policies"]:
        return policies(resources, words[3:], flags, project)
    if words[:2] == ["functions", "deploy"]:
        labels = dict(label.split("=", 1) for label in flags.get("update-labels", [""])[0].split(",") if label)
        resources[f"function:{words[2]}"] = labels
        return 0
    if words[:2] == ["functions", "describe"]:
        labels = resources.get(f"function:{words[2]}")
        if labels is None:
            return fail(f"NOT_FOUND: Function [{words[2]}] does not exist")
        fmt = flags.get("format", [""])[0]
        if fmt.startswith("value(labels."):
            print(labels.get(fmt[len("value(labels."):-1], ""))
        return 0
    if words[:2] == ["functions", "add-invoker-policy-binding"]:
        return 0 if f"function:{words[2]}" in resources else fail(f"NOT_FOUND: Function [{words[2]}] does not exist")
    for group, kind in GROUPS.items():
        if tuple(words[:len(group)]) == group:
            rest = words[len(group):]
            verb = rest[0]
            target = rest[2] if rest[:2] in (["create", "http"], ["update", "http"]) else rest[1]
            if kind == "sa":
                target = target.split("@")[0]
            if verb in ("describe", "create"):
                return describe_or_create(resources, f"{kind}:{target}", verb)
            if verb in ("update", "add-iam-policy-binding"):
                return 0 if f"{kind}:{target}" in resources else fail(f"NOT_FOUND: {kind} {target} not found")
    return fail(f"the stand-in gcloud does not know: {line}")


def describe_or_create(resources: dict, key: str, verb: str) -> int:
    if verb == "describe":
        if key in resources:
            print(key.split(":", 1)[1])
            return 0
        return fail(f"NOT_FOUND: {key} not found")
    if key in resources:
        return fail(f"ALREADY_EXISTS: {key} already exists")
    resources[key] = True
    return 0


def policies(resources: dict, words: list[str], flags: dict[str, list[str]], project: str) -> int:
    found = resources.setdefault("policies", {})
    if words[0] == "list":
        print(json.dumps([{"name": name, "displayName": display} for name, display in sorted(found.items())]))
        return 0
    with open(flags["policy-from-file"][0], encoding="utf-8") as handle:
        display = json.load(handle)["displayName"]
    if words[0] == "create":
        if display in found.values():
            return fail("ALREADY_EXISTS: a policy with this display name exists (a real project would now have two)")
        found[f"projects/{project}/alertPolicies/P{len(found) + 1}"] = display
        return 0
    if words[0] == "update":
        return 0 if words[1] in found else fail(f"NOT_FOUND: {words[1]}")
    return fail("unknown policies command")


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
