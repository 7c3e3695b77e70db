"""Where a deployment goes, and the ``${...}`` placeholders of infra/*.json filled from it.

Placeholders (anything else is refused, naming the file and key):

    ${PROJECT} ${REGION} ${RELEASE} ${ENVIRONMENT}    from the command line
    ${PROJECT_NUMBER}                                  read from the project (``PROJECT_NUMBER`` in a
                                                       dry run without --project-number)
    ${BUCKET} ${FIRESTORE_DATABASE}                    from storage.json / firestore.json
    ${FUNCTION}                                        inside functions.json's "url" only
    ${FUNCTION_URL:name}                               functions.json's "url" for that function
    ${FUNCTION_URLS}                                   {"name": url, ...} of every function, as JSON
    ${SA:name}                                         name@PROJECT.iam.gserviceaccount.com
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from shared.deploy.errors import InfraInvalid

_PLACEHOLDER = re.compile(r"\$\{([A-Z_]+)(?::([A-Za-z0-9_-]+))?\}")
_PROJECT = re.compile(r"^[a-z][a-z0-9-]{4,28}[a-z0-9]$")
_REGION = re.compile(r"^[a-z]+-[a-z]+[0-9]$")


@dataclass(frozen=True)
class DeployContext:
    """One deployment target. ``function_names`` and ``url_template`` come from functions.json."""

    project: str
    region: str
    release: str = "unversioned"
    environment: str = "production"
    bucket_template: str = "${PROJECT}-planner-data"
    firestore_database: str = "(default)"
    url_template: str = "https://${REGION}-${PROJECT}.cloudfunctions.net/${FUNCTION}"
    project_number: str = ""
    function_names: tuple[str, ...] = ()
    alert_channels: tuple[str, ...] = ()
    extra: Mapping[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not _PROJECT.match(self.project or ""):
            raise InfraInvalid("The project id must be 6 to 30 lowercase letters, digits or hyphens, "
                               "starting with a letter (--project).", field="project")
        if not _REGION.match(self.region or ""):
            raise InfraInvalid("The region must look like europe-west1 (--region).", field="region")
        if not re.match(r"^[A-Za-z0-9._-]{1,64}$", self.release or ""):
            raise InfraInvalid("The release must be 1 to 64 letters, digits, dots, dashes or underscores (--release).",
                               field="release")
        if self.project_number and not self.project_number.isdigit():
            raise InfraInvalid("The project number must be digits (--project-number).", field="project_number")
        if not re.match(r"^[a-z][a-z0-9-]{0,31}$", self.environment or ""):
            raise InfraInvalid("The environment must be a short lowercase name such as production (--environment).",
                               field="environment")

    # --- derived names ---------------------------------------------------------------------------
    @property
    def bucket(self) -> str:
        return self._expand(self.bucket_template, "storage.json: name", allow={"PROJECT", "REGION"})

    def service_account(self, name: str) -> str:
        return f"{name}@{self.project}.iam.gserviceaccount.com"

    def member(self, name: str) -> str:
        return f"serviceAccount:{self.service_account(name)}"

    def function_url(self, function: str) -> str:
        return self._expand(self.url_template.replace("${FUNCTION}", function), "functions.json: url",
                            allow={"PROJECT", "REGION", "PROJECT_NUMBER"})

    def function_urls(self) -> dict[str, str]:
        return {name: self.function_url(name) for name in self.function_names}

    # --- placeholders ----------------------------------------------------------------------------
    def expand(self, value: Any, where: str) -> Any:
        """``value`` with every placeholder filled (recursively through lists and dicts)."""
        if isinstance(value, str):
            return self._expand(value, where)
        if isinstance(value, list):
            return [self.expand(item, f"{where}[{i}]") for i, item in enumerate(value)]
        if isinstance(value, dict):
            return {key: self.expand(item, f"{where}.{key}") for key, item in value.items()}
        return value

    def _expand(self, text: str, where: str, allow: set[str] | None = None) -> str:
        def fill(match: re.Match[str]) -> str:
            name, arg = match.group(1), match.group(2)
            if allow is not None and name not in allow:
                raise InfraInvalid(f"{where}: the placeholder ${{{name}}} cannot be used here.", field=where)
            return self._value(name, arg, where)

        return _PLACEHOLDER.sub(fill, text)

    def _value(self, name: str, arg: str | None, where: str) -> str:
        simple = {
            "PROJECT": self.project,
            "PROJECT_NUMBER": self.project_number or "PROJECT_NUMBER",
            "REGION": self.region,
            "RELEASE": self.release,
            "ENVIRONMENT": self.environment,
            "FIRESTORE_DATABASE": self.firestore_database,
            **self.extra,
        }
        if arg is None and name in simple:
            return simple[name]
        if arg is None and name == "BUCKET":
            return self.bucket
        if arg is None and name == "FUNCTION_URLS":
            return json.dumps(self.function_urls(), sort_keys=True, separators=(",", ":"))
        if arg is not None and name == "FUNCTION_URL":
            if arg not in self.function_names:
                raise InfraInvalid(f"{where}: ${{FUNCTION_URL:{arg}}} names no function of functions.json.", field=where)
            return self.function_url(arg)
        if arg is not None and name == "SA":
            return self.service_account(arg)
        shown = name + (f":{arg}" if arg else "")
        raise InfraInvalid(f"{where}: unknown placeholder ${{{shown}}}.", field=where)
