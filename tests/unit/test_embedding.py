"""Which runtime embeds what: ONNX Runtime where it starts faster, torch where bfloat16 wins."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import pytest

from rag import RagError, Settings
from rag.index import embedding
from rag.index.embedding_onnx import exportable

PACKAGED = Settings.load({}, env={})


@pytest.mark.parametrize("bf16_units", [True, False])
def test_questions_go_through_onnx_and_documents_through_torch_only_where_bfloat16_helps(
        monkeypatch, bf16_units: bool):
    monkeypatch.setattr(embedding, "_cpu_has_bf16_units", lambda: bf16_units)
    assert embedding.runtime_for(PACKAGED) == "onnx"
    assert embedding.runtime_for(PACKAGED, documents=True) == ("torch" if bf16_units
                                                               else "onnx")
    float32 = replace(PACKAGED, embed_precision="float32")
    assert embedding.runtime_for(float32, documents=True) == "onnx"


def test_a_chosen_runtime_is_kept_and_a_wrong_one_is_a_one_line_error():
    assert embedding.runtime_for(replace(PACKAGED, embed_runtime="torch")) == "torch"
    with pytest.raises(RagError, match="RAG_EMBED_RUNTIME"):
        embedding.runtime_for(replace(PACKAGED, embed_runtime="gpu"))


def _model_folder(folder: Path, pooling: dict, modules: list[str]) -> Path:
    (folder / "1_Pooling").mkdir(parents=True)
    (folder / "1_Pooling" / "config.json").write_text(json.dumps(pooling))
    (folder / "modules.json").write_text(json.dumps([{"type": m} for m in modules]))
    (folder / "tokenizer.json").write_text("{}")
    return folder


def test_only_models_onnx_reproduces_exactly_are_exported(tmp_path: Path):
    plain = ["sentence_transformers.models.Transformer", "sentence_transformers.models.Pooling"]
    mean = {"pooling_mode_mean_tokens": True, "word_embedding_dimension": 8}
    assert exportable(str(_model_folder(tmp_path / "mean", mean, plain)))
    with_dense = [*plain, "sentence_transformers.models.Dense"]
    assert not exportable(str(_model_folder(tmp_path / "dense", mean, with_dense)))
    both = {**mean, "pooling_mode_max_tokens": True}
    assert not exportable(str(_model_folder(tmp_path / "max", both, plain)))
    assert not exportable("sentence-transformers/all-MiniLM-L6-v2")  # a hub id: torch
    settings = replace(PACKAGED, embedder=str(tmp_path / "dense"))
    assert embedding.runtime_for(settings) == "torch"
    with pytest.raises(RagError, match="RAG_EMBED_RUNTIME=torch"):
        embedding.load(replace(settings, embed_runtime="onnx"), "onnx")
