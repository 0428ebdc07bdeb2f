"""Near-duplicates through LSH bands kept in the index: the pairs the full scan finds, and an
index made before the bands existed gets them."""

from __future__ import annotations

import sqlite3

import numpy as np

from rag.index.duplicates import (
    BANDS,
    DESIGN_JACCARD,
    PERMUTATIONS,
    ROWS,
    band_keys,
    near_duplicates,
    scan,
    signature,
)
from rag.index.schema import MIGRATIONS, migrate
from tests.conftest import SAMPLE

RELEASE = ("Kelp forests along the northern coast tripled within two years after divers "
           "removed purple sea urchins from twelve test reefs, the team reported on Monday. "
           "Fish counts rose alongside the kelp, and urchins returned once culling stopped.")


def test_banded_lookup_finds_the_pairs_the_scan_finds(library, tmp_path):
    folder = tmp_path / "news"
    folder.mkdir()
    text = SAMPLE.read_text()
    (folder / "wire.txt").write_text(text)
    (folder / "paper.txt").write_text(text.replace("groundbreaking", "remarkable"))
    (folder / "other.txt").write_text("Glaciers in the Andes lost ice twice as fast since "
                                      "2010 as in the decade before, satellites show.")
    report = library.ingest([folder])
    assert report.near_duplicates == [("paper", "wire")]
    ids = ["wire", "paper", "other"]
    assert near_duplicates(library.store, ids, 0.8) == scan(library.store, ids, 0.8)
    # below the bands' design threshold the scan is used: more pairs, never fewer
    assert set(near_duplicates(library.store, ids, 0.5)) >= {("paper", "wire")}


def test_an_index_made_before_the_bands_gets_them_when_it_is_opened():
    db = sqlite3.connect(":memory:")
    db.executescript(MIGRATIONS[0])
    db.execute("PRAGMA user_version = 1")
    values = signature(RELEASE)
    db.execute("INSERT INTO articles VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)",
               ("wire", "", "[]", "", "", "", "", "[]", "{}", RELEASE, "h",
                values.tobytes(), "2026-11-30"))
    migrate(db)
    stored = db.execute("SELECT band, key FROM minhash_bands WHERE article_id = 'wire'")
    assert sorted(stored.fetchall()) == band_keys(values) and len(band_keys(values)) == BANDS
    assert np.array_equal(np.frombuffer(band_keys(values)[0][1], np.uint64), values[:5])


def test_the_written_out_bands_are_what_datasketch_chooses_for_the_design_threshold():
    from datasketch import MinHashLSH

    lsh = MinHashLSH(threshold=DESIGN_JACCARD, num_perm=PERMUTATIONS, weights=(0.01, 0.99))
    assert (BANDS, ROWS) == (lsh.b, lsh.r)
    signature = np.arange(PERMUTATIONS, dtype=np.uint64)
    assert band_keys(signature) == [(band, signature[start:end].tobytes())
                                    for band, (start, end) in enumerate(lsh.hashranges)]
