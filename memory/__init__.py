"""Memory: what each character knows, and when (docs/memory.md).

Graph memory (MemoryGraph: relations with since/until/witnesses, seeded from the play up
to a story horizon), vector memory (qdrant: the play's speeches as lore, the scene's
turns as episodic memories), and retrieval for one character filtered by what it
witnessed and by its horizon. Heavy libraries (qdrant-client, sentence-transformers)
load only when a store or an embedder is first used.
"""
