"""llama.cpp is built for the CPU it runs on, and a wheel is reused only on a CPU with the
same instructions: a CPU without AVX-512 never gets a build that needs it."""

from __future__ import annotations

from pathlib import Path

import pytest

from rag.core.cpu import flags as cpu_flags
from rag.core.cpu import name as cpu_name
from rag.generation.llama_build import PORTABLE, build, this_machine

AVX2_ONLY = {"sse4_2", "avx", "avx2", "fma", "f16c"}
AVX512_VNNI_BF16 = AVX2_ONLY | {"avx512f", "avx512bw", "avx512vl", "avx512dq", "avx512cd",
                                "avx512_vnni", "avx512_bf16", "avx512vbmi"}


def test_a_cpu_without_avx512_gets_the_portable_avx2_build():
    key, arguments = build(AVX2_ONLY, portable=False)
    assert (key, arguments) == ("avx2", PORTABLE)
    assert "-DGGML_AVX512=OFF" in arguments and "AVX512_VNNI=ON" not in arguments


def test_an_avx512_cpu_gets_its_extensions_and_a_cache_key_of_its_own():
    key, arguments = build(AVX512_VNNI_BF16, portable=False)
    assert key == "avx512-bf16-vbmi-vnni" and key != build(AVX2_ONLY, False)[0]
    for flag in ("-DGGML_AVX512=ON", "-DGGML_AVX512_VNNI=ON", "-DGGML_AVX512_BF16=ON",
                 "-DGGML_AVX512_VBMI=ON", "-DGGML_AMX_TILE=OFF", "-DGGML_NATIVE=OFF"):
        assert flag in arguments
    # a CPU with AVX-512 but without VNNI: another key, no VNNI instructions in the build
    plain_key, plain = build(AVX512_VNNI_BF16 - {"avx512_vnni"}, portable=False)
    assert plain_key != key and "VNNI" not in plain


def test_the_portable_build_can_be_forced_on_any_cpu():
    assert build(AVX512_VNNI_BF16, portable=True) == ("avx2", PORTABLE)


def test_the_environment_variable_forces_the_portable_build_here(
        monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("RAG_LLAMA_PORTABLE", "1")
    assert this_machine() == ("avx2", PORTABLE)
    monkeypatch.setenv("RAG_LLAMA_PORTABLE", "0")
    assert this_machine() == build(cpu_flags(), portable=False)


def test_flags_are_read_from_cpuinfo(tmp_path: Path):
    info = tmp_path / "cpuinfo"
    info.write_text("processor\t: 0\nflags\t\t: fpu avx2 avx512f\n\nprocessor\t: 1\n")
    assert cpu_flags(info) == {"fpu", "avx2", "avx512f"}
    assert cpu_flags(tmp_path / "missing") == set()


def test_the_cpu_name_is_read_from_cpuinfo(tmp_path: Path):
    info = tmp_path / "cpuinfo"
    info.write_text("processor\t: 0\nmodel name\t: AMD EPYC 9B14\nflags\t\t: fpu\n")
    assert cpu_name(info) == "AMD EPYC 9B14"
