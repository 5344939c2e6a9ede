"""The Ed25519 key that signs tree heads (ARCHITECTURE.md rule 4), kept in ``HABEAS_HOME``."""

from __future__ import annotations

import os
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from django.conf import settings


def key_path() -> Path:
    return Path(settings.LEDGER_KEY_PATH)


def ensure_signing_key(path: Path | None = None) -> tuple[Path, bool]:
    """Create the key if missing (mode 0600); returns (path, created). Never overwrites."""
    path = path or key_path()
    if path.exists():
        return path, False
    path.parent.mkdir(parents=True, exist_ok=True)
    pem = Ed25519PrivateKey.generate().private_bytes(
        encoding=serialization.Encoding.PEM,
        format=serialization.PrivateFormat.PKCS8,
        encryption_algorithm=serialization.NoEncryption(),
    )
    # Write a private temporary file, then link it into place: a concurrent `init` either
    # wins or finds the other's complete key, never a half-written one.
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as fh:
        fh.write(pem)
    try:
        os.link(tmp, path)
    except FileExistsError:
        return path, False
    finally:
        tmp.unlink()
    return path, True


def load_signing_key(path: Path | None = None) -> Ed25519PrivateKey:
    path = path or key_path()
    if not path.exists():
        raise FileNotFoundError(f"no ledger signing key at {path}; run `habeas init`")
    key = serialization.load_pem_private_key(path.read_bytes(), password=None)
    if not isinstance(key, Ed25519PrivateKey):
        raise ValueError(f"{path} is not an Ed25519 private key")
    return key


def public_key(path: Path | None = None) -> Ed25519PublicKey:
    return load_signing_key(path).public_key()


def public_key_pem(path: Path | None = None) -> str:
    return (
        public_key(path)
        .public_bytes(
            encoding=serialization.Encoding.PEM,
            format=serialization.PublicFormat.SubjectPublicKeyInfo,
        )
        .decode("ascii")
    )
