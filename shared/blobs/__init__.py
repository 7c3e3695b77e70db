"""The blob store port (tenant prefixes, generation preconditions) and its adapters: GCS, a folder."""

from shared.blobs.base import BlobInfo, BlobStore, tenant_prefix
from shared.blobs.errors import BlobError, BlobNotFound, GenerationMismatch

__all__ = ["BlobError", "BlobInfo", "BlobNotFound", "BlobStore", "GenerationMismatch", "tenant_prefix"]
