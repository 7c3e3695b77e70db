"""The secrets port and its adapters: Secret Manager (cached) and env/file."""

from shared.secrets.base import SecretNotFound, SecretStore

__all__ = ["SecretNotFound", "SecretStore"]
