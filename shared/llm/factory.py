"""Which LLM adapter a process uses, from its settings."""

from __future__ import annotations

import httpx

from shared.config import Settings
from shared.llm.base import LLM


def build_llm(settings: Settings, *, http_client: httpx.AsyncClient | None = None) -> LLM:
    """The adapter ``settings.llm_provider`` names: ``offline`` (no model) or ``openai``.

    ``openai`` means any OpenAI-compatible Chat Completions API at ``settings.llm_base_url``
    (OpenAI, Gemini's or Anthropic's compatible endpoints, vLLM, Ollama) with
    ``settings.llm_model`` and the key ``settings.llm_api_key`` (empty for local servers). Wrap the
    result in :class:`shared.llm.metered.MeteredLLM` to enforce quotas and record usage.
    """
    if settings.llm_provider == "offline":
        from shared.llm.offline import OfflineLLM

        return OfflineLLM()
    if settings.llm_provider == "openai":
        from shared.llm.openai_compat import OpenAICompatLLM

        return OpenAICompatLLM(
            base_url=settings.llm_base_url,
            model=settings.llm_model,
            api_key=settings.llm_api_key,
            http_client=http_client,
        )
    raise ValueError(f"unknown llm_provider {settings.llm_provider!r}")
