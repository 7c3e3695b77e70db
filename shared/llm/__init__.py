"""The LLM port (chat with tool calling) and its adapters; see :mod:`shared.llm.base`."""

from shared.llm.base import (
    LLM,
    Completion,
    LLMContext,
    Message,
    ToolCall,
    ToolSpec,
    Usage,
    tool_error_result,
)
from shared.llm.factory import build_llm

__all__ = [
    "LLM",
    "Completion",
    "LLMContext",
    "Message",
    "ToolCall",
    "ToolSpec",
    "Usage",
    "build_llm",
    "tool_error_result",
]
