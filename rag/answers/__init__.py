"""Answering: hybrid retrieval, the answer itself (evidence, generation, checking,
verdicts), named conversations, and a running app found and asked by the command line. May
import every wing above it: core, sources, index, generation, reading."""
