"""How llama-cpp-python is built on this machine: for the instructions its CPU has.

llama.cpp's prompt evaluation — what a reader waits for before the first word — runs ~1.45×
faster with AVX-512 (VNNI, BF16) than with the portable AVX2 build on the same CPU
(../shared/MODELS.md). So the build takes its flags from the CPU's own flags, and the wheel
cache is keyed by them: a wheel built here is reused only on a CPU with the same instructions,
and one without AVX-512 gets (or builds) the AVX2 wheel, never one that would fault on it.
AMX stays off (it faulted on some of these VMs). ``RAG_LLAMA_PORTABLE=1`` forces the portable
AVX2 build (e.g. for an environment copied to other machines).

Chosen over llama.cpp's runtime-dispatched CPU variants (``GGML_BACKEND_DL`` with
``GGML_CPU_ALL_VARIANTS``): llama-cpp-python 0.3.x does not load those backends itself
(abetlen/llama-cpp-python issue 2069), so they would need loading by hand through the
library's handle before every model, for a gain this per-machine build already has.

``python -m rag.generation.llama_build`` prints the cache key and the CMake arguments (the
Makefile's input).
"""

from __future__ import annotations

import os
import sys

from rag.core import cpu

PORTABLE = ("-DGGML_NATIVE=OFF -DGGML_AVX=ON -DGGML_AVX2=ON -DGGML_FMA=ON -DGGML_F16C=ON "
            "-DGGML_AVX512=OFF -DGGML_AMX_TILE=OFF -DGGML_AMX_INT8=OFF -DGGML_AMX_BF16=OFF")
AVX512 = {"avx512f", "avx512bw", "avx512vl", "avx512dq", "avx512cd"}
"""What the AVX-512 build needs at least; VBMI, VNNI and BF16 are added where present."""
EXTRAS = {"avx512_vbmi": "GGML_AVX512_VBMI", "avx512vbmi": "GGML_AVX512_VBMI",
          "avx512_vnni": "GGML_AVX512_VNNI", "avx512_bf16": "GGML_AVX512_BF16"}


def build(flags: set[str], portable: bool) -> tuple[str, str]:
    """(wheel cache key, CMake arguments) for a CPU with ``flags``."""
    if portable or not AVX512 <= flags:
        return "avx2", PORTABLE
    extras = sorted({name for flag, name in EXTRAS.items() if flag in flags})
    key = "avx512" + "".join(f"-{n.removeprefix('GGML_AVX512_').lower()}" for n in extras)
    arguments = PORTABLE.replace("-DGGML_AVX512=OFF", "-DGGML_AVX512=ON")
    return key, " ".join([arguments, *(f"-D{name}=ON" for name in extras)])


def this_machine() -> tuple[str, str]:
    """(wheel cache key, CMake arguments) for this CPU, ``RAG_LLAMA_PORTABLE`` honoured."""
    portable = os.environ.get("RAG_LLAMA_PORTABLE", "").lower() in ("1", "true", "yes", "on")
    return build(cpu.flags(), portable)


def main() -> None:
    key, arguments = this_machine()
    sys.stdout.write(f"{key}\n{arguments}\n")


if __name__ == "__main__":
    main()
