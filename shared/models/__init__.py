"""The domain model (pydantic v2): tenants, their configuration, agent state, usage, tasks.

Models are plain data: no I/O. Stores persist ``model.model_dump(mode="python")`` and rebuild with
``Model.model_validate(doc)``.
"""

from shared.models.agent_state import AgentState, ConversationTurn
from shared.models.tasks import Priority, Recurrence, Routine, Task, TaskStatus
from shared.models.tenant import ConnectionStatus, Tenant, Tier
from shared.models.usage import OperationType, UsageRecord
from shared.models.user_config import NotificationPreferences, UserConfig, WorkingHours

__all__ = [
    "AgentState",
    "ConnectionStatus",
    "ConversationTurn",
    "NotificationPreferences",
    "OperationType",
    "Priority",
    "Recurrence",
    "Routine",
    "Task",
    "TaskStatus",
    "Tenant",
    "Tier",
    "UsageRecord",
    "UserConfig",
    "WorkingHours",
]
