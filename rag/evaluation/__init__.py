"""Measuring: the dev evaluations behind ``rag eval`` and ``make eval``, the labelled claim
alterations, the verifier's training and calibration, and ``make bench``. Uses
``rag.library`` and the wings under it; nothing in the product imports this package."""
