"""build_llm picks the adapter the settings name."""

from __future__ import annotations

import httpx

from shared.config import Settings
from shared.llm import build_llm
from shared.llm.offline import OfflineLLM
from shared.llm.openai_compat import OpenAICompatLLM


def test_offline_by_default():
    assert isinstance(build_llm(Settings()), OfflineLLM)


def test_openai_compatible_from_settings_without_leaking_the_key():
    client = httpx.AsyncClient()
    settings = Settings(
        llm_provider="openai",
        llm_base_url="https://generativelanguage.googleapis.com/v1beta/openai/",
        llm_model="gemini-2.0-flash",
        llm_api_key="AIza-secret-key",
    )

    llm = build_llm(settings, http_client=client)

    assert isinstance(llm, OpenAICompatLLM)
    assert (llm.base_url, llm.model) == ("https://generativelanguage.googleapis.com/v1beta/openai", "gemini-2.0-flash")
    assert "AIza" not in repr(llm)


def test_environment_variables_select_the_provider(monkeypatch):
    monkeypatch.setenv("PLANNER_LLM_PROVIDER", "openai")
    monkeypatch.setenv("PLANNER_LLM_BASE_URL", "http://127.0.0.1:11434/v1")
    monkeypatch.setenv("PLANNER_LLM_MODEL", "llama3.1:8b")

    llm = build_llm(Settings())

    assert isinstance(llm, OpenAICompatLLM) and llm.model == "llama3.1:8b"
