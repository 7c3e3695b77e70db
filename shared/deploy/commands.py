"""The plan's vocabulary: commands, probes, steps, gates and deferred steps.

A deployment is an ordered list of items:

* :class:`Step` — one resource. Its optional *probe* is a read-only command (``describe``,
  ``list``) that tells whether the resource exists (or already is as wanted); the runner then
  runs ``absent`` (create) or ``present`` (update, often nothing). A step without a probe always
  runs ``absent``: that is for commands that are idempotent by themselves (``services enable``,
  ``add-iam-policy-binding``).
* :class:`Gate` — read-only checks that stop the deployment with a clear error when they fail
  (an active account, readable project, secrets that have a value). Checks may be ``soft``: their
  outcome is only recorded as a fact for later steps (an optional secret without a value is not
  mounted).
* :class:`Deferred` — a step built when it is reached, from the facts gates recorded.

Generated files the commands read (env files, lifecycle and alert JSON) travel with their step.
"""

from __future__ import annotations

import shlex
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Union

from shared.deploy.errors import DeployError


@dataclass(frozen=True)
class Command:
    """One gcloud invocation. ``retry`` marks commands that may race with a just-created resource
    (IAM bindings on a new service account): the runner retries them a few times on NOT_FOUND."""

    argv: tuple[str, ...]
    retry: bool = False

    def __str__(self) -> str:
        return shlex.join(self.argv)


@dataclass(frozen=True)
class Result:
    returncode: int
    stdout: str = ""
    stderr: str = ""


@dataclass(frozen=True)
class Probe:
    """A read-only command. Without ``test``, exit code 0 means "present"; with it, the command must
    succeed and ``test(stdout)`` decide. A failure that says NOT_FOUND means "absent"."""

    command: Command
    test: Callable[[str], bool] | None = None

    def present(self, result: Result) -> bool:
        if result.returncode != 0:
            return False
        return True if self.test is None else bool(self.test(result.stdout))


Present = Union[tuple[Command, ...], Callable[[str], tuple[Command, ...]]]


@dataclass(frozen=True)
class Step:
    title: str
    probe: Probe | None = None
    absent: tuple[Command, ...] = ()
    present: Present = ()  # commands, or a function of the probe's stdout returning them
    files: tuple[tuple[str, str], ...] = ()  # (path relative to the repository, content)
    hint: str = ""  # what to grant when the account may not do this

    def present_commands(self, stdout: str) -> tuple[Command, ...]:
        return self.present(stdout) if callable(self.present) else self.present


@dataclass(frozen=True)
class Check:
    """One check of a gate: ``fact`` is the name its outcome is recorded under."""

    fact: str
    probe: Probe
    soft: bool = False  # a failed soft check is recorded, not an error


@dataclass(frozen=True)
class Gate:
    title: str
    checks: tuple[Check, ...]
    fail: Callable[[list[str]], DeployError]  # the facts whose (hard) check failed -> the error to raise
    hint: str = ""


@dataclass(frozen=True)
class Deferred:
    """A step made when reached, from the facts recorded so far (``{fact: passed}``)."""

    title: str
    build: Callable[[Mapping[str, bool]], Step]


Item = Union[Step, Gate, Deferred]


@dataclass(frozen=True)
class Plan:
    items: tuple[Item, ...]
    notes: tuple[str, ...] = field(default=())  # printed first (what the plan assumes, what to do after)


class Gcloud:
    """Builds gcloud commands that always name the project (never the CLI's default project)."""

    def __init__(self, project: str) -> None:
        self.project = project

    def __call__(self, *args: str, retry: bool = False) -> Command:
        return Command(("gcloud", *args, f"--project={self.project}"), retry=retry)
