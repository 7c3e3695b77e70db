"""The runner on an injected executor: probe outcomes, retries of racing IAM bindings, error classes."""

from __future__ import annotations

import io

import pytest

from shared.deploy.commands import Check, Command, Deferred, Gate, Plan, Probe, Result, Step
from shared.deploy.errors import CommandFailed, DeployPermissionDenied, NotAuthenticated, SecretValuesMissing
from shared.deploy.runner import RETRY_DELAYS, Runner


def cmd(*words: str, retry: bool = False) -> Command:
    return Command(("gcloud", *words), retry=retry)


class Script:
    """Answers each argv with queued results (default: success), recording every call."""

    def __init__(self, answers: dict[tuple[str, ...], list[Result]] | None = None) -> None:
        self.answers = answers or {}
        self.calls: list[tuple[str, ...]] = []

    def __call__(self, command: Command, capture: bool) -> Result:
        self.calls.append(command.argv[1:])
        queued = self.answers.get(command.argv[1:])
        return queued.pop(0) if queued else Result(0)


def run(plan_items, script, **kwargs):
    sleeps = []
    runner = Runner(execute=script, root=kwargs.pop("root"), out=io.StringIO(), sleep=sleeps.append, **kwargs)
    return runner, runner.run(Plan(tuple(plan_items))), sleeps


def test_absent_creates_present_updates_and_identical_probes_run_once(tmp_path):
    listing = cmd("things", "list")
    script = Script({("things", "list"): [Result(0, "a\n")], ("x", "describe"): [Result(1, "", "NOT_FOUND: x")]})
    items = [
        Step("x", probe=Probe(cmd("x", "describe")), absent=(cmd("x", "create"),), present=(cmd("x", "update"),)),
        Step("a", probe=Probe(listing, test=lambda out: "a" in out.split()), absent=(cmd("a", "create"),),
             present=lambda out: (cmd("a", "update", out.strip()),)),
        Step("b", probe=Probe(listing, test=lambda out: "b" in out.split()), absent=(cmd("b", "create"),),
             files=(("build/deploy/b.json", "{}\n"),)),
    ]
    _, summary, _ = run(items, script, root=tmp_path)
    assert script.calls == [("x", "describe"), ("x", "create"), ("things", "list"), ("a", "update", "a"),
                            ("b", "create")]
    assert summary.created == ["x", "b"] and summary.updated == ["a"]
    assert (tmp_path / "build/deploy/b.json").read_text() == "{}\n"


def test_a_binding_racing_a_new_account_is_retried_then_succeeds(tmp_path):
    binding = cmd("iam", "bind", retry=True)
    script = Script({binding.argv[1:]: [Result(1, "", "NOT_FOUND: account does not exist")] * 2})
    _, summary, sleeps = run([Step("bind", absent=(binding,))], script, root=tmp_path)
    assert sleeps == list(RETRY_DELAYS[:2]) and len(script.calls) == 3 and summary.applied == ["bind"]


@pytest.mark.parametrize("stderr, error", [
    ("ERROR: PERMISSION_DENIED: The caller does not have permission", DeployPermissionDenied),
    ("ERROR: You do not currently have an active account selected.", NotAuthenticated),
    ("ERROR: INVALID_ARGUMENT: bad schedule", CommandFailed),
])
def test_failures_are_classified_and_name_the_command(tmp_path, stderr, error):
    script = Script({("q", "create"): [Result(1, "", stderr)] * 4})
    with pytest.raises(error) as caught:
        run([Step("q", absent=(cmd("q", "create", retry=True),), hint="grant roles/x")], script, root=tmp_path)
    assert "gcloud q create" in caught.value.message or error is NotAuthenticated
    if error is DeployPermissionDenied:
        assert "grant roles/x" in caught.value.message and len(script.calls) == 1  # never retried


def test_a_probe_error_other_than_not_found_stops_the_run(tmp_path):
    script = Script({("x", "describe"): [Result(1, "", "ERROR: UNAVAILABLE: try later")]})
    with pytest.raises(CommandFailed, match="UNAVAILABLE"):
        run([Step("x", probe=Probe(cmd("x", "describe")), absent=(cmd("x", "create"),))], script, root=tmp_path)
    assert script.calls == [("x", "describe")]


def test_gates_stop_on_hard_failures_and_record_soft_ones_for_deferred_steps(tmp_path):
    empty = Result(0, "")
    script = Script({("v", "required"): [Result(0, "1")], ("v", "optional"): [empty]})
    built = []
    gate = Gate("values", (Check("required", Probe(cmd("v", "required"), test=bool)),
                           Check("optional", Probe(cmd("v", "optional"), test=bool), soft=True)),
                fail=lambda facts: SecretValuesMissing("missing", secrets=facts))
    deferred = Deferred("fn", lambda facts: built.append(dict(facts)) or Step("fn", absent=(cmd("fn", "deploy"),)))
    run([gate, deferred], script, root=tmp_path)
    assert built == [{"required": True, "optional": False}]

    script = Script({("v", "required"): [empty], ("v", "optional"): [empty]})
    with pytest.raises(SecretValuesMissing) as caught:
        run([gate, deferred], script, root=tmp_path)
    assert caught.value.secrets == ["required"] and ("fn", "deploy") not in script.calls


def test_dry_run_prints_creates_and_probes_without_an_executor(tmp_path):
    out = io.StringIO()
    runner = Runner(execute=None, root=tmp_path, out=out, dry_run=True)
    runner.run(Plan((Step("x", probe=Probe(cmd("x", "describe")), absent=(cmd("x", "create"),),
                          present=(cmd("x", "update"),)),)))
    text = out.getvalue()
    assert "# describe, not run (dry run: assumed absent): gcloud x describe" in text
    assert "\ngcloud x create\n" in text and "gcloud x update" not in text
