"""The house: ``rag/`` in wings along the pipeline, each importing only wings before it."""

from __future__ import annotations

import ast
from pathlib import Path

RAG = Path(__file__).resolve().parents[2] / "rag"
ORDER = ["core", "sources", "index", "generation", "reading", "answers", "digest", "library",
         "evaluation", "cli"]
"""Pipeline order: a module may import its own wing and the wings before it."""


def wing_of(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else ""


def imports(path: Path) -> set[str]:
    """Every ``rag`` module ``path`` imports, at the top or inside a function."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("rag."):
            found.add(node.module)
        elif isinstance(node, ast.Import):
            found |= {a.name for a in node.names if a.name.startswith("rag.")}
    return found


def test_every_wing_imports_only_itself_and_the_wings_before_it():
    backwards = []
    for path in sorted(RAG.rglob("*.py")):
        module = ".".join(path.relative_to(RAG.parent).with_suffix("").parts)
        here = wing_of(module)
        if here not in ORDER:
            continue  # rag/__init__.py: the public names, imported lazily
        for imported in imports(path):
            there = wing_of(imported)
            if ORDER.index(there) > ORDER.index(here):
                backwards.append(f"{module} -> {imported}")
    assert backwards == []


def test_ls_rag_reads_as_the_pipeline():
    entries = sorted(p.name for p in RAG.iterdir() if p.name != "__pycache__")
    assert entries == sorted(["__init__.py", "library.py", *(
        w for w in ORDER if w != "library")])
    for wing in ORDER:
        if wing != "library":
            doc = ast.get_docstring(ast.parse((RAG / wing / "__init__.py").read_text()))
            assert doc and len(doc) > 80, f"rag/{wing}/__init__.py says what the wing is for"
