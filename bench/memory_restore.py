"""Restoring a tenant's vector memory in a stateless function: cold (a new instance downloads the
committed snapshot) and warm (an instance whose copy matches the manifest downloads nothing), for
tenants of 1,000 and 10,000 documents.

Baseline, measured in the same run: reading every object of the snapshot from the blob store
(the least any cold restore must do). Vectors come from a fast deterministic stand-in embedder so
that the scenario measures restore, not embedding (``bench/embeddings.py`` measures that).
"""

from __future__ import annotations

import hashlib
import json
import sys
import tempfile
from pathlib import Path

import numpy as np

from bench._runner import Measurement, report

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

TENANT = "bench-memory"


class HashEmbedder:
    """384-dim unit vectors derived from a hash of the text: deterministic and instant."""

    model_id = "bench-hash-384"

    def embed(self, texts):
        out = []
        for text in texts:
            seed = int.from_bytes(hashlib.sha256(text.encode()).digest()[:8], "little")
            vector = np.random.default_rng(seed).standard_normal(384).astype(np.float32)
            out.append((vector / np.linalg.norm(vector)).tolist())
        return out


def _populate(service, documents: int) -> None:
    from shared.memory.documents import MemoryDocument

    docs = [MemoryDocument(f"page-{i:05d}", f"Task {i}: review section {i % 97} of the plan",
                           {"kind": "task", "priority": i % 4}) for i in range(documents)]
    for start in range(0, documents, 2000):
        service.upsert(docs[start:start + 2000], tenant_id=TENANT)


def run(sizes: tuple[int, ...] = (1000, 10000), repeat: int = 3) -> list[dict]:
    from shared.blobs.local import LocalBlobStore
    from shared.memory.memory import MemoryService
    from shared.memory.snapshot import MANIFEST_KEY, SNAPSHOTS_PREFIX
    from shared.store.sqlite import SqliteDocumentStore

    rows = []
    for size in sizes:
        with tempfile.TemporaryDirectory() as tmp:
            tmp_path = Path(tmp)
            blobs = LocalBlobStore(tmp_path / "blobs")
            store = SqliteDocumentStore(tmp_path / "documents.sqlite3")
            writer = MemoryService(blobs, store, HashEmbedder(), cache_dir=tmp_path / "writer")
            _populate(writer, size)
            writer.close()
            # Only the committed snapshot's objects (older ones may still await collection).
            manifest = json.loads(blobs.read(MANIFEST_KEY, tenant_id=TENANT).data)
            prefix = f"{SNAPSHOTS_PREFIX}{manifest['snapshot_id']}/"
            snapshot = [info for info in blobs.list(prefix, tenant_id=TENANT)] + [blobs.stat(MANIFEST_KEY, tenant_id=TENANT)]
            snapshot_bytes = sum(info.size for info in snapshot)

            baseline = Measurement(f"raw read of the snapshot ({snapshot_bytes / 1e6:.1f} MB)")
            cold = Measurement(f"cold restore, {size} docs")
            warm = Measurement(f"warm restore, {size} docs")
            warm_bytes = []
            for attempt in range(repeat):
                import time

                started = time.perf_counter()
                for info in snapshot:
                    blobs.read(info.key, tenant_id=TENANT)
                baseline.samples.append(time.perf_counter() - started)

                reader = MemoryService(blobs, store, HashEmbedder(), cache_dir=tmp_path / f"reader-{attempt}")
                started = time.perf_counter()
                reader.search("review the plan", tenant_id=TENANT, k=5)
                cold.samples.append(time.perf_counter() - started)
                before = reader.bytes_downloaded
                started = time.perf_counter()
                reader.search("review the plan", tenant_id=TENANT, k=5)
                warm.samples.append(time.perf_counter() - started)
                warm_bytes.append(reader.bytes_downloaded - before)
                reader.close()
            rows += report(f"Memory restore, {size} documents", baseline, [cold, warm])
            print(f"bytes downloaded by a warm restore: {max(warm_bytes)}")
            store.close()
    return rows


if __name__ == "__main__":
    run()
