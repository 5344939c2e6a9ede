"""Signed checkpoints of the ledger's tree head (ARCHITECTURE.md rule 4; issue: accountability).

The text is a *signed note* in the transparency-log checkpoint format (C2SP tlog-checkpoint and
signed-note): a body of three lines — origin, tree size, base64 root hash — then a blank line
and one signature line ``— <key name> <base64(key id ‖ Ed25519 signature)>``, where the key id
is the first four bytes of SHA-256(key name ‖ "\\n" ‖ 0x01 ‖ public key) and the signature
covers the body bytes. An oversight body keeps a checkpoint; later, a consistency proof
(RFC 9162 §2.1.4) shows the current ledger extends it, so truncation or rewriting is found by
anyone holding only the old checkpoint and the public key.
"""

from __future__ import annotations

import base64
import hashlib
from dataclasses import dataclass

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

SIGNATURE_DASH = "\u2014"
ED25519_ALG = b"\x01"


class CheckpointError(ValueError):
    """A checkpoint that cannot be read, or whose signature does not verify."""


@dataclass(frozen=True)
class Checkpoint:
    origin: str
    size: int
    root: bytes

    def body(self) -> str:
        return f"{self.origin}\n{self.size}\n{base64.b64encode(self.root).decode('ascii')}\n"


def _raw_public(key: Ed25519PublicKey) -> bytes:
    return key.public_bytes(
        encoding=serialization.Encoding.Raw, format=serialization.PublicFormat.Raw
    )


def key_id(name: str, key: Ed25519PublicKey) -> bytes:
    return hashlib.sha256(name.encode("utf-8") + b"\n" + ED25519_ALG + _raw_public(key)).digest()[
        :4
    ]


def verifier_key(name: str, key: Ed25519PublicKey) -> str:
    """The signed-note verifier key text: ``name+hex(key id)+base64(0x01 ‖ public key)``."""
    return (
        f"{name}+{key_id(name, key).hex()}+"
        f"{base64.b64encode(ED25519_ALG + _raw_public(key)).decode('ascii')}"
    )


def sign(checkpoint: Checkpoint, key: Ed25519PrivateKey, *, name: str) -> str:
    body = checkpoint.body()
    signature = key.sign(body.encode("utf-8"))
    blob = base64.b64encode(key_id(name, key.public_key()) + signature).decode("ascii")
    return f"{body}\n{SIGNATURE_DASH} {name} {blob}\n"


def parse_and_verify(text: str, key: Ed25519PublicKey, *, name: str) -> Checkpoint:
    """Read a signed checkpoint and check its signature against ``key``."""
    body, sep, signatures = text.partition("\n\n")
    if not sep:
        raise CheckpointError("not a signed note: no blank line before the signatures")
    body += "\n"
    lines = body.split("\n")
    if len(lines) < 4:
        raise CheckpointError("checkpoint body needs origin, size and root lines")
    origin, size_text, root_b64 = lines[0], lines[1], lines[2]
    try:
        size = int(size_text)
        root = base64.b64decode(root_b64, validate=True)
    except ValueError as exc:
        raise CheckpointError(f"unreadable size or root: {exc}") from None
    if size < 0 or len(root) != 32:
        raise CheckpointError("size must be ≥ 0 and the root 32 bytes")
    expected_id = key_id(name, key)
    for line in signatures.splitlines():
        parts = line.split(" ")
        if len(parts) != 3 or parts[0] != SIGNATURE_DASH or parts[1] != name:
            continue
        try:
            blob = base64.b64decode(parts[2], validate=True)
        except ValueError:
            continue
        if blob[:4] != expected_id:
            continue
        try:
            key.verify(blob[4:], body.encode("utf-8"))
        except InvalidSignature:
            raise CheckpointError("the checkpoint's signature does not verify") from None
        return Checkpoint(origin=origin, size=size, root=root)
    raise CheckpointError(f"no signature by {name} with this ledger's key")
