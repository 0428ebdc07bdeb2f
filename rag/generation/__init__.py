"""The language model: packaged models located offline (``models``), llama.cpp built for
this CPU (``llama_build``), and the generators (``generate``: llama.cpp, transformers, an
OpenAI-compatible server). May import ``rag.core``."""
