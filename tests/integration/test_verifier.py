"""A configured claim verifier, run for real: a cross-encoder folder (here the packaged MiniLM
with an untrained three-label head, saved with its checksum as 'make checker' saves one) is
loaded, checked, and read by 'rag check' over the rules."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest

from rag.reading.verifier import LABELS, Verifier
from tests.processes import run_rag


@pytest.fixture(scope="module")
def verifier_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from sentence_transformers.cross_encoder import CrossEncoder

    from rag.core.settings import Settings
    from rag.index.embedding import resolve_model

    folder = tmp_path_factory.mktemp("verifier") / "claim-verifier"
    model = CrossEncoder(resolve_model(Settings.load({}, env={}).embedder),
                         num_labels=len(LABELS), max_length=160)
    model.save(str(folder))
    digest = hashlib.sha256((folder / "model.safetensors").read_bytes()).hexdigest()
    (folder / "TRAINING.json").write_text(json.dumps({"sha256": digest}))
    # thresholds no reading can reach but the doubt one, which every reading is under
    (folder / "CALIBRATION.json").write_text(json.dumps(
        {"supports_at": 1.01, "contradicts_at": 1.01, "doubts_below": 1.0}))
    return folder


def test_a_verifier_folder_loads_with_its_calibration_and_reads_pairs(verifier_folder: Path):
    verifier = Verifier(verifier_folder)
    assert verifier.thresholds == {"supports_at": 1.01, "hedges_at": 1.01,
                                   "doubts_below": 1.0, "contradicts_at": 1.01}
    found = verifier.probabilities([("The cells restored ovarian function in rats.",
                                     "Ovarian function came back in rats.")] * 2)
    assert found.shape == (2, 3) and abs(float(found[0].sum()) - 1.0) < 1e-4


def test_rag_check_reads_with_the_configured_verifier_over_the_rules(
        sample_index: tuple[Path, dict], verifier_folder: Path):
    statement = "The research team was led by Luo."
    rules = json.loads(run_rag("check", statement, "--index", str(sample_index[0]),
                               "--json", env={"RAG_STATEMENT_VERIFIER": "off"}).stdout)
    assert rules["status"] == "supported"
    doubted = json.loads(run_rag(
        "check", statement, "--index", str(sample_index[0]), "--json",
        env={"RAG_STATEMENT_VERIFIER": str(verifier_folder)}).stdout)
    # the verifier's doubt (every reading is under 1.0) turns the rules' support round
    assert (doubted["status"], doubted["kind"]) == ("not found", "verifier")
