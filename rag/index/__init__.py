"""The on-disk index: chunking, embedding (sentence-transformers, or ONNX Runtime for a
quick start), the vector stores, the SQLite catalog with its generations, near-duplicates and
versions, and ``ingest`` that writes them. May import ``rag.core`` and ``rag.sources``."""
