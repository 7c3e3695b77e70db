"""The onboarding wizard's progress: ``dashboard/onboarding``, one small document per tenant.

Steps: ``connect`` (done by signing in) → ``sources`` (Tasks and Routines chosen or created) →
``schedule`` (planning time, timezone, working hours confirmed) → ``preview`` (today's plan shown,
then *Finish*). The choices themselves live in the tenant's :class:`~shared.models.UserConfig`;
this document only records which steps the user confirmed, and what onboarding created.

A tenant configured before the dashboard existed (a Tasks data source in its configuration, no
onboarding document) counts as onboarded.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

from shared.models import UserConfig
from shared.store.base import DocumentStore

PATH = "dashboard/onboarding"
STEPS = ("connect", "sources", "schedule", "preview")


@dataclass(frozen=True)
class OnboardingState:
    sources_done: bool = False
    schedule_done: bool = False
    completed_at: datetime | None = None
    created: dict[str, Any] | None = None  # ids of the databases onboarding created

    @property
    def done(self) -> bool:
        return self.completed_at is not None

    @property
    def next_step(self) -> str:
        if not self.sources_done:
            return "sources"
        if not self.schedule_done:
            return "schedule"
        return "preview"


def _now() -> datetime:
    return datetime.now(timezone.utc)


def load_state(store: DocumentStore, config: UserConfig, *, tenant_id: str) -> OnboardingState:
    data = store.get(PATH, tenant_id=tenant_id)
    if data is None:
        if config.tasks_data_source_id:  # configured before (or without) the wizard
            return OnboardingState(sources_done=True, schedule_done=True,
                                   completed_at=datetime.min.replace(tzinfo=timezone.utc))
        return OnboardingState()
    return OnboardingState(
        sources_done=bool(data.get("sources_done")) and bool(config.tasks_data_source_id),
        schedule_done=bool(data.get("schedule_done")),
        completed_at=data.get("completed_at") if isinstance(data.get("completed_at"), datetime) else None,
        created=data.get("created") if isinstance(data.get("created"), dict) else None,
    )


def mark(store: DocumentStore, step: str, *, tenant_id: str, created: dict[str, Any] | None = None) -> None:
    """Record that the user confirmed ``step`` (``sources``, ``schedule`` or ``finished``)."""
    if step not in ("sources", "schedule", "finished"):
        raise ValueError(f"unknown onboarding step {step!r}")
    now = _now()
    update: dict[str, Any] = {"updated_at": now}
    if step == "finished":
        update["completed_at"] = now
    else:
        update[f"{step}_done"] = True
    if created is not None:
        update["created"] = created
    store.set(PATH, update, tenant_id=tenant_id, merge=True)


def finish(backends: Any, config: UserConfig, *, tenant_id: str, now: datetime) -> None:
    """The last step: record it, give the tenant its first planning time (today's plan comes at
    once if today's planning time has passed and the working day has not ended) and queue a full
    sync of the chosen data sources, so the synced copy exists before the first plan."""
    from shared.agent.dispatch import schedule_next_plan

    store = backends.documents
    mark(store, "finished", tenant_id=tenant_id)
    schedule_next_plan(store, tenant_id=tenant_id, config=config, now=now, reschedule=True)
    queue_first_sync(backends.tasks, config, tenant_id=tenant_id)


def queue_first_sync(tasks: Any, config: UserConfig, *, tenant_id: str) -> bool:
    """A full sync of the configured data sources, once per pair of sources (named task)."""
    from shared.sync.schedule import SYNC_FUNCTION, SYNC_PATH, SYNC_QUEUE
    from shared.taskqueue.base import TaskRequest, task_name_for
    from shared.taskqueue.errors import TaskAlreadyExists

    key = f"onboarding:{config.tasks_data_source_id}:{config.routines_data_source_id}"
    request = TaskRequest(queue=SYNC_QUEUE, function=SYNC_FUNCTION, path=SYNC_PATH, tenant_id=tenant_id,
                          payload={"full": True, "reason": "onboarding"},
                          name=task_name_for("sync", tenant_id=tenant_id, key=key))
    try:
        tasks.enqueue(request)
    except TaskAlreadyExists:
        return False
    return True
