"""The planning agent's common library: every Cloud Function imports from here.

Sub-packages are imported lazily by the functions that need them, so that a function pays the
cold-start cost only of what it uses (oauth and usage never import chromadb or the LLM code).
"""
