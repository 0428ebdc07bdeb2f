"""Reading sentences as a careful reader does: support scores, sentence roles, the claim
check and its verifiers (the model as a judge), citations, yes/no verdicts, disagreements
between articles, comparisons, the evidence a prompt is given. May import ``rag.core``,
``rag.index`` (the embedder) and ``rag.generation``."""
