"""A question from the command line starts quickly: the embedder through ONNX Runtime (the
same vectors as sentence-transformers) and nothing on the ``ask`` path it does not use."""

from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from rag import RagError, Settings
from rag.index.embedding import SentenceTransformerEmbedder, load
from tests.conftest import REPO, SAMPLE

pytestmark = pytest.mark.integration


def test_the_onnx_embedder_gives_the_sentence_transformers_vectors_and_token_spans():
    settings = Settings.load({}, env={})
    text = SAMPLE.read_text()
    # short and long texts in one call: padded batches, and one past the 256-token limit
    texts = ["stem cells", "Can doctors use this therapy on women now?", text[:600],
             text[:3000], text]
    fast = load(settings, "onnx")
    reference = SentenceTransformerEmbedder(settings.embedder, precision="float32")
    cosines = (fast.embed(texts) * reference.embed(texts)).sum(axis=1)
    assert cosines.min() > 0.99999, cosines
    assert np.allclose(np.linalg.norm(fast.embed(texts), axis=1), 1.0, atol=1e-5)
    assert fast.token_spans(texts) == reference.token_spans(texts)
    assert fast.dimension == reference.dimension == 384


def test_a_damaged_export_is_a_one_line_error_naming_what_to_delete(tmp_path: Path):
    settings = replace(Settings.load({}, env={}), model_cache=tmp_path)
    load(settings, "onnx")  # exports into the empty cache
    (exported,) = tmp_path.glob("onnx/*/model.onnx")
    assert not list(tmp_path.glob("onnx/*/.*partial"))  # nothing half-written is left
    exported.write_bytes(b"not a model")
    with pytest.raises(RagError, match="delete that folder") as err:
        load(settings, "onnx")
    assert "\n" not in str(err.value)
    exported.unlink()
    assert load(settings, "onnx").embed(["again"]).shape == (1, 384)  # exported anew


HEAVY = ("torch", "sentence_transformers", "transformers", "gradio", "ray", "pymilvus",
         "sklearn", "rag.evaluation")


def test_a_question_from_the_command_line_loads_no_torch_gradio_ray_or_evaluation_code(
        sample_index):
    index, _ = sample_index
    script = (
        "import json, sys\n"
        "from rag.cli.main import app\n"
        "try:\n"
        f"    app(['ask', 'Which angiopoietins does the study focus on?', '--index', "
        f"{str(index)!r}, '--json', '--no-server'])\n"
        "except SystemExit as done:\n"
        "    assert not done.code, done.code\n"
        "print(json.dumps(sorted(sys.modules)))\n"
    )
    run = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                         cwd=REPO, timeout=600, check=True)
    answer_text, _, modules_line = run.stdout.rpartition("\n[")
    answer = json.loads(answer_text)
    modules = json.loads("[" + modules_line)
    assert answer["citations"] and not answer["refused"], answer["answer"]
    assert "llama_cpp" in modules and "onnxruntime" in modules  # the real models answered
    loaded = [m for m in modules if m.split(".")[0] in HEAVY or m in HEAVY]
    assert loaded == [], loaded
