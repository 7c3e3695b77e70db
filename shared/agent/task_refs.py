"""Which task the user means: "the dentist task", "Write Q3 planning doc", or a Notion page id.

The chat's write tools (update, complete) take a ``task`` reference. It is resolved against the
stored tasks, strictly, because a guess would write to the wrong page:

1. a Notion page id (32 hex digits, dashes optional) names that task;
2. otherwise a title that equals the reference (case and spacing aside) wins, open tasks first;
3. otherwise the tasks whose title contains the reference; exactly one must match.

Anything else is a :class:`ReferenceProblem` with a message for the model and the user: nothing
matches (with the closest titles as suggestions) or several do (listing them).
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Sequence
from dataclasses import dataclass

from shared.models import Task, TaskStatus

_ID = re.compile(r"^[0-9a-fA-F]{8}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{12}$")
_OPEN = frozenset({TaskStatus.TODO, TaskStatus.IN_PROGRESS, TaskStatus.BLOCKED})
_MAX_LISTED = 5


@dataclass(frozen=True)
class ReferenceProblem(Exception):
    """The reference names no task, or several; ``message`` says which and suggests names."""

    message: str


def _norm(text: str) -> str:
    return " ".join(text.casefold().replace("“", "").replace("”", "").replace('"', "").split())


def _compact(value: str) -> str:
    return value.replace("-", "").lower()


def _listed(tasks: Sequence[Task]) -> str:
    names = [f"“{task.title}”" for task in tasks[:_MAX_LISTED]]
    more = f" and {len(tasks) - _MAX_LISTED} more" if len(tasks) > _MAX_LISTED else ""
    return ", ".join(names) + more


def resolve(reference: str, tasks: Sequence[Task]) -> Task:
    """The one task ``reference`` names among ``tasks``; :class:`ReferenceProblem` otherwise."""
    text = reference.strip()
    if not text:
        raise ReferenceProblem("Say which task: its title or its id.")
    if _ID.fullmatch(text):
        for task in tasks:
            if _compact(task.id) == _compact(text):
                return task
        raise ReferenceProblem("No task has that id.")
    wanted = _norm(text)
    for candidates in (
        [t for t in tasks if _norm(t.title) == wanted],
        [t for t in tasks if wanted in _norm(t.title)],
    ):
        if not candidates:
            continue
        open_ones = [t for t in candidates if t.status in _OPEN]
        chosen = open_ones or candidates
        if len(chosen) == 1:
            return chosen[0]
        raise ReferenceProblem(f"“{text}” matches several tasks: {_listed(chosen)}. Which one do you mean?")
    titles = {t.title: t for t in tasks}
    close = difflib.get_close_matches(text, list(titles), n=3, cutoff=0.5)
    hint = f" Did you mean {_listed([titles[c] for c in close])}?" if close else ""
    raise ReferenceProblem(f"No task is called “{text}”.{hint}")
