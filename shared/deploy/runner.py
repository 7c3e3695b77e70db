"""Runs a plan with gcloud — or, in a dry run, prints every command and runs none.

Real run, per step: run the probe (a read-only describe/list; identical probes run once), then the
step's create commands if the resource is absent, or its update commands if present. Each command
is printed before it runs. Failures are classified from gcloud's error text: no credentials →
:class:`NotAuthenticated`, permission → :class:`DeployPermissionDenied` (with what to grant),
anything else → :class:`CommandFailed` with the end of gcloud's message. A probe's NOT_FOUND is not
a failure: it means "absent".

Dry run: nothing is executed, not even a describe. Every resource is assumed absent (so its create
commands are printed), every gate check is assumed to pass, and probes are printed as comments.
Generated files (env files, lifecycle and alert JSON) are written in both modes, so the printed
commands can be run by hand.
"""

from __future__ import annotations

import logging
import os
import re
import subprocess
import sys
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TextIO

from shared.deploy.commands import Command, Deferred, Gate, Item, Plan, Probe, Result, Step
from shared.deploy.errors import CommandFailed, DeployPermissionDenied, NotAuthenticated, ToolMissing

logger = logging.getLogger(__name__)

Execute = Callable[[Command, bool], Result]  # (command, capture output?) -> result

_AUTH = re.compile(r"(do not currently have an active account|Reauthentication required|refreshing your current auth "
                   r"tokens|invalid_grant|gcloud auth login)", re.IGNORECASE)
_PERMISSION = re.compile(r"(PERMISSION_DENIED|does not have permission|permission denied|caller does not have|"
                         r"\b403\b|Forbidden)", re.IGNORECASE)
_NOT_FOUND = re.compile(r"(NOT_FOUND|not found|does not exist|\b404\b)", re.IGNORECASE)
_COMPONENT = re.compile(r"(do not currently have this command group installed|Invalid choice: 'alpha')", re.IGNORECASE)
RETRY_DELAYS = (5.0, 10.0, 20.0)  # IAM on a just-created service account can take seconds to see it


def subprocess_executor(cwd: Path, out: TextIO) -> Execute:
    """Run gcloud for real (prompts disabled). Mutating commands show their output as it comes,
    keeping gcloud's error text for the diagnosis."""
    env = dict(os.environ, CLOUDSDK_CORE_DISABLE_PROMPTS="1")

    def execute(command: Command, capture: bool) -> Result:
        try:
            if capture:
                done = subprocess.run(command.argv, cwd=cwd, env=env, capture_output=True, text=True)
                return Result(done.returncode, done.stdout, done.stderr)
            with subprocess.Popen(command.argv, cwd=cwd, env=env, stdout=subprocess.PIPE,
                                  stderr=subprocess.STDOUT, text=True) as process:
                lines = []
                for line in process.stdout:  # type: ignore[union-attr]
                    out.write("    " + line)
                    out.flush()
                    lines.append(line)
                return Result(process.wait(), "", "".join(lines[-40:]))
        except FileNotFoundError:
            raise ToolMissing(f"{command.argv[0]} is not installed or not on PATH: install the Google Cloud CLI "
                              "(https://cloud.google.com/sdk/docs/install).") from None

    return execute


@dataclass
class Summary:
    created: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    applied: list[str] = field(default_factory=list)  # idempotent commands without a probe


class Runner:
    """Executes (or, with ``dry_run``, prints) a :class:`Plan`."""

    def __init__(self, *, execute: Execute | None, root: Path, out: TextIO = sys.stdout, dry_run: bool = False,
                 sleep: Callable[[float], None] = time.sleep) -> None:
        if execute is None and not dry_run:
            raise ValueError("a real run needs an executor")
        self.execute = execute
        self.root = Path(root)
        self.out = out
        self.dry_run = dry_run
        self.sleep = sleep
        self.facts: dict[str, bool] = {}
        self.summary = Summary()
        self._probes: dict[tuple[str, ...], Result] = {}

    # --- output ----------------------------------------------------------------------------------
    def say(self, text: str = "") -> None:
        self.out.write(text + "\n")
        self.out.flush()

    def _write_files(self, step: Step) -> None:
        for relative, content in step.files:
            path = self.root / relative
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(content, encoding="utf-8")

    # --- plan --------------------------------------------------------------------------------------
    def run(self, plan: Plan, *, final: bool = True) -> Summary:
        """Run (or print) every item; ``final`` prints the summary at the end."""
        if self.dry_run and final:
            self.say("# dry run: nothing is executed, not even a describe. Every resource is assumed absent")
            self.say("# (so its create command is shown) and every check is assumed to pass.")
        for note in plan.notes:
            self.say(f"# {note}")
        for item in plan.items:
            self._item(item)
        if final and not self.dry_run:
            s = self.summary
            self.say(f"\ndone: {len(s.created)} created, {len(s.updated)} updated, {len(s.unchanged)} unchanged, "
                     f"{len(s.applied)} idempotent commands applied")
        return self.summary

    def _item(self, item: Item) -> None:
        if isinstance(item, Gate):
            self._gate(item)
        elif isinstance(item, Deferred):
            facts: Mapping[str, bool] = self.facts
            if self.dry_run:
                facts = {}  # every fact assumed true
            self._step(item.build(facts))
        else:
            self._step(item)

    def _gate(self, gate: Gate) -> None:
        self.say(f"\n# == check: {gate.title}")
        failed = []
        for check in gate.checks:
            if self.dry_run:
                self.say(f"# check, not run (dry run: assumed to pass): {check.probe.command}")
                continue
            passed = check.probe.present(self._probe(check.probe, gate.hint, absent_ok=True))
            self.facts[check.fact] = passed
            if not passed and not check.soft:
                failed.append(check.fact)
        if failed:
            raise gate.fail(failed)

    def _step(self, step: Step) -> None:
        self.say(f"\n# == {step.title}")
        self._write_files(step)
        if self.dry_run:
            if step.probe is not None:
                self.say(f"# describe, not run (dry run: assumed absent): {step.probe.command}")
            for command in step.absent:
                self.say(str(command))
            return
        if step.probe is None:
            for command in step.absent:
                self._mutate(command, step.hint)
            self.summary.applied.append(step.title)
            return
        result = self._probe(step.probe, step.hint, absent_ok=True)
        if step.probe.present(result):
            commands = step.present_commands(result.stdout)
            self.say(f"# exists{'' if commands else ', unchanged'}")
            for command in commands:
                self._mutate(command, step.hint)
            (self.summary.updated if commands else self.summary.unchanged).append(step.title)
        else:
            self.say("# absent")
            for command in step.absent:
                self._mutate(command, step.hint)
            self.summary.created.append(step.title)

    def output(self, command: Command) -> str:
        """The standard output of a probe this runner already ran."""
        return self._probes[command.argv].stdout

    # --- commands ----------------------------------------------------------------------------------
    def _probe(self, probe: Probe, hint: str, *, absent_ok: bool) -> Result:
        key = probe.command.argv
        if key not in self._probes:
            self.say(f"$ {probe.command}")
            result = self.execute(probe.command, True)  # type: ignore[misc]
            if result.returncode != 0:
                self._raise_for(probe.command, result, hint, not_found_ok=absent_ok)
            self._probes[key] = result
        return self._probes[key]

    def _mutate(self, command: Command, hint: str) -> None:
        delays = RETRY_DELAYS if command.retry else ()
        for attempt in range(len(delays) + 1):
            self.say(f"$ {command}")
            result = self.execute(command, False)  # type: ignore[misc]
            if result.returncode == 0:
                return
            text = result.stderr + result.stdout
            if attempt < len(delays) and _NOT_FOUND.search(text) and not _PERMISSION.search(text):
                self.say(f"# not visible yet; retrying in {delays[attempt]:g} s")
                self.sleep(delays[attempt])
                continue
            self._raise_for(command, result, hint, not_found_ok=False)

    def _raise_for(self, command: Command, result: Result, hint: str, *, not_found_ok: bool) -> None:
        text = (result.stderr or "") + (result.stdout or "")
        tail = " ".join(line.strip() for line in text.strip().splitlines()[-3:])[:600]
        if _COMPONENT.search(text):
            raise ToolMissing(f"`{command}` needs a gcloud component that is not installed: run "
                              "`gcloud components install alpha` (or install the google-cloud-cli-alpha package).")
        if _AUTH.search(text):
            raise NotAuthenticated(f"gcloud is not logged in (or its login expired) while running `{command}`: "
                                   "run `gcloud auth login` and try again.")
        if _PERMISSION.search(text):
            advice = f" Grant it: {hint}." if hint else ""
            raise DeployPermissionDenied(f"Permission denied running `{command}`.{advice} gcloud said: {tail}")
        if not_found_ok and _NOT_FOUND.search(text):
            return
        raise CommandFailed(f"`{command}` failed (exit {result.returncode}). gcloud said: {tail}")
