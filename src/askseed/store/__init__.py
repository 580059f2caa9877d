"""The index on disk: SQLite metadata and keyword index, FAISS vectors."""
