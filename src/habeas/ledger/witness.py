"""``habeas ledger witness``: check a ledger export on the witness's own machine, no database.

An oversight body keeps a whole copy of the public ledger (docs/ledger.md, produced by
:mod:`habeas.ledger.export`) and, with each new export, checks:

1. the signed checkpoint in the header: its Ed25519 signature (C2SP signed note, see
   :mod:`habeas.ledger.checkpoint`) under the key the witness trusts (``--key``, else the key
   of its older copy, else the key the export carries), and that the header's size and root
   are the signed ones;
2. every entry line: indices consecutive from the header's ``from``, each ``leaf_hash`` equal
   to SHA-256(0x00 ‖ canonical) (RFC 9162 §2.1.1), each canonical text in canonical form and
   naming its own index;
3. the root of the tree grown from the leaves (RFC 9162 §2.1.1; from the header's base
   border when the export starts above 0) equals the signed root;
4. with an older copy (``--against``) or an older signed checkpoint (``--checkpoint``): the
   RFC 9162 §2.1.4 consistency proof from the old size to the new one (§2.1.4.2 verification),
   the old root equal to the root of the export's first entries, and every entry of the older
   copy byte-identical to the same entry of the export.

A file that is not an export (unreadable JSON, a missing key, a truncated file) is bad input
(:class:`WitnessInputError`, exit 2), reported with file and line; a check that fails is a
:class:`Problem` (exit 1) naming the entry at fault. This module imports nothing that reaches
a database.
"""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from habeas.core.canonical import canonical_bytes_of_plain, loads
from habeas.ledger import merkle
from habeas.ledger.checkpoint import ED25519_ALG, CheckpointError, parse_and_verify

EXPORT_TYPE = "habeas-ledger-export"
EXPORT_VERSION = 1
LEDGER_FORMAT = 2
_PAGE = 10_000
_MAX_PROBLEMS = 20
_HEX64 = re.compile(r"[0-9a-f]{64}")


class WitnessInputError(ValueError):
    """The file is not a ledger export (or not a complete one): bad input, exit 2."""

    def __init__(self, path: Path, line: int | None, message: str) -> None:
        where = f"{path}:{line}" if line is not None else str(path)
        super().__init__(f"{where}: {message}")


@dataclass
class Problem:
    where: str
    message: str


@dataclass(frozen=True)
class Base:
    """The tree the export extends (``from`` > 0): its size, root, right border, and the
    consistency proof from it to the exported size (RFC 9162 §2.1.4.1)."""

    size: int
    root: bytes
    border: list[bytes]
    consistency: list[bytes]


@dataclass(frozen=True)
class Header:
    path: Path
    origin: str
    start: int
    size: int
    root: bytes
    checkpoint: str
    public_key: str | None
    base: Base | None


@dataclass
class WitnessResult:
    size: int = 0
    start: int = 0
    root: bytes = merkle.EMPTY_ROOT
    key_source: str = ""
    problems: list[Problem] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems

    def add(self, where: str, message: str) -> None:
        if len(self.problems) < _MAX_PROBLEMS:
            self.problems.append(Problem(where, message))


# --- reading ------------------------------------------------------------------------------


def _hash(path: Path, line: int, value: Any, what: str) -> bytes:
    if not isinstance(value, str) or not _HEX64.fullmatch(value):
        raise WitnessInputError(path, line, f"{what} must be 64 lowercase hex digits")
    return bytes.fromhex(value)


def _int(path: Path, line: int, value: Any, what: str) -> int:
    if type(value) is not int or value < 0:
        raise WitnessInputError(path, line, f"{what} must be a whole number ≥ 0")
    return value


def _json_line(path: Path, number: int, raw: bytes) -> Any:
    if not raw.endswith(b"\n"):
        raise WitnessInputError(path, number, "the line is cut short (the file is truncated)")
    try:
        return json.loads(raw)
    except ValueError as exc:
        raise WitnessInputError(path, number, f"not a JSON line: {exc}") from None


def read_header(path: Path, handle: IO[bytes]) -> Header:
    """The first line of an export (see :mod:`habeas.ledger.export`)."""
    raw = handle.readline()
    if not raw:
        raise WitnessInputError(path, 1, "the file is empty: not a ledger export")
    doc = _json_line(path, 1, raw)
    if not isinstance(doc, dict) or doc.get("type") != EXPORT_TYPE:
        raise WitnessInputError(path, 1, f'not a ledger export (no "type": "{EXPORT_TYPE}")')
    if doc.get("export") != EXPORT_VERSION:
        raise WitnessInputError(path, 1, f"export version {doc.get('export')!r} is not 1")
    if doc.get("format") != LEDGER_FORMAT:
        raise WitnessInputError(
            path, 1, f"ledger format {doc.get('format')!r}: this witness reads format 2 only"
        )
    for key in ("origin", "checkpoint"):
        if not isinstance(doc.get(key), str):
            raise WitnessInputError(path, 1, f'"{key}" must be a string')
    public_key = doc.get("public_key")
    if public_key is not None and not isinstance(public_key, str):
        raise WitnessInputError(path, 1, '"public_key" must be PEM text')
    start = _int(path, 1, doc.get("from"), '"from"')
    size = _int(path, 1, doc.get("size"), '"size"')
    if start > size:
        raise WitnessInputError(path, 1, f'"from" {start} is beyond "size" {size}')
    base = None
    if start > 0:
        base = _read_base(path, doc.get("base"), start)
    elif doc.get("base") is not None:
        raise WitnessInputError(path, 1, 'an export from entry 0 has no "base"')
    return Header(
        path=path,
        origin=doc["origin"],
        start=start,
        size=size,
        root=_hash(path, 1, doc.get("root"), '"root"'),
        checkpoint=doc["checkpoint"],
        public_key=public_key,
        base=base,
    )


def _read_base(path: Path, value: Any, start: int) -> Base:
    if not isinstance(value, dict):
        raise WitnessInputError(path, 1, f'an export from entry {start} needs a "base" object')
    if value.get("size") != start:
        raise WitnessInputError(path, 1, f'"base"."size" must equal "from" ({start})')
    border, proof = value.get("border"), value.get("consistency")
    if not isinstance(border, list) or not isinstance(proof, list):
        raise WitnessInputError(path, 1, '"base" needs "border" and "consistency" lists')
    if len(border) != len(merkle.border_levels(start)):
        raise WitnessInputError(
            path,
            1,
            f'"base"."border" of a tree of {start} entries has '
            f"{len(merkle.border_levels(start))} hashes, not {len(border)}",
        )
    return Base(
        size=start,
        root=_hash(path, 1, value.get("root"), '"base"."root"'),
        border=[_hash(path, 1, h, '"base"."border"') for h in border],
        consistency=[_hash(path, 1, h, '"base"."consistency"') for h in proof],
    )


@dataclass(frozen=True, slots=True)
class Line:
    number: int
    index: int
    data: bytes
    leaf: bytes


def read_entries(path: Path, handle: IO[bytes]) -> Iterator[Line]:
    """The entry lines after the header, checked for shape only (bad shape: exit 2)."""
    for number, raw in enumerate(handle, start=2):
        doc = _json_line(path, number, raw)
        if not isinstance(doc, dict) or set(doc) != {"index", "canonical", "leaf_hash"}:
            raise WitnessInputError(
                path, number, 'an entry line holds exactly "index", "canonical", "leaf_hash"'
            )
        if not isinstance(doc["canonical"], str):
            raise WitnessInputError(path, number, '"canonical" must be a string')
        try:
            data = doc["canonical"].encode("utf-8")
        except UnicodeEncodeError:
            raise WitnessInputError(path, number, '"canonical" is not valid Unicode') from None
        yield Line(
            number,
            _int(path, number, doc["index"], '"index"'),
            data,
            _hash(path, number, doc["leaf_hash"], '"leaf_hash"'),
        )


def _pages(lines: Iterator[Line]) -> Iterator[list[Line]]:
    page: list[Line] = []
    for line in lines:
        page.append(line)
        if len(page) == _PAGE:
            yield page
            page = []
    if page:
        yield page


def load_key(path: Path) -> Ed25519PublicKey:
    """A public key file: PEM (``GET /api/v1/ledger/public-key``) or the signed-note verifier
    key text ``name+hex id+base64(0x01 ‖ key)``."""
    try:
        text = path.read_bytes()
    except OSError as exc:
        raise WitnessInputError(path, None, f"cannot read the key: {exc.strerror}") from None
    return _public_key(path, text)


def _public_key(path: Path, text: bytes) -> Ed25519PublicKey:
    stripped = text.strip()
    if stripped.startswith(b"-----BEGIN"):
        try:
            key = serialization.load_pem_public_key(stripped)
        except ValueError as exc:
            raise WitnessInputError(path, None, f"not a PEM public key: {exc}") from None
        if not isinstance(key, Ed25519PublicKey):
            raise WitnessInputError(path, None, "not an Ed25519 public key")
        return key
    parts = stripped.decode("ascii", "replace").split("+")
    try:
        blob = base64.b64decode(parts[-1], validate=True)
    except ValueError:
        blob = b""
    if len(parts) != 3 or len(blob) != 33 or blob[:1] != ED25519_ALG:
        raise WitnessInputError(path, None, "neither a PEM public key nor a verifier key")
    return Ed25519PublicKey.from_public_bytes(blob[1:])


# --- checking -----------------------------------------------------------------------------


@dataclass
class _Tree:
    """The tree grown page by page from a border (RFC 9162 §2.1.1, :func:`merkle.grow`),
    keeping the border at ``mark`` and the nodes ``wanted`` for a consistency proof."""

    size: int
    border: list[bytes]
    mark: int | None = None
    wanted: set[tuple[int, int]] = field(default_factory=set)
    marked: list[bytes] | None = None
    nodes: dict[tuple[int, int], bytes] = field(default_factory=dict)

    def grow(self, leaves: list[bytes]) -> None:
        if self.mark is not None and self.size < self.mark < self.size + len(leaves):
            cut = self.mark - self.size
            self.grow(leaves[:cut])
            self.grow(leaves[cut:])
            return
        for level, idx in self.wanted:
            if level == 0 and self.size <= idx < self.size + len(leaves):
                self.nodes[(0, idx)] = leaves[idx - self.size]
        grown = merkle.grow(self.size, self.border, leaves)
        for level, first, hashes in grown.levels:
            for key in self.wanted:
                if key[0] == level and first <= key[1] < first + len(hashes):
                    self.nodes[key] = hashes[key[1] - first]
        self.size += len(leaves)
        self.border = grown.border
        if self.size == self.mark:
            self.marked = list(self.border)


@dataclass
class _Older:
    """What the witness already holds: a size and root, and maybe the entries themselves."""

    size: int
    root: bytes
    what: str
    copy: Path | None = None


def _check_entries(
    header: Header,
    handle: IO[bytes],
    result: WitnessResult,
    tree: _Tree,
    older: Iterator[Line] | None,
    progress: Callable[[int], None] | None,
) -> int:
    """Check every entry line, grow the tree; returns how many entries the file holds."""
    expected = header.start
    count = 0
    old_line: Line | None = None
    for page in _pages(read_entries(header.path, handle)):
        leaves = merkle.leaf_hashes([line.data for line in page])
        for line, leaf in zip(page, leaves, strict=True):
            where = f"entry {line.index} (line {line.number})"
            if line.index != expected:
                if line.index > expected:
                    result.add(
                        f"entry {expected}",
                        f"missing: line {line.number} holds entry {line.index} in its place "
                        "(an entry was removed or the entries reordered)",
                    )
                else:
                    result.add(
                        where,
                        f"out of order: it comes after entry {expected - 1} "
                        "(the entries were reordered or an entry repeated)",
                    )
            expected = line.index + 1
            if leaf != line.leaf:
                result.add(where, "the leaf hash does not match the canonical text (edited)")
            _check_text(line, where, result)
            if older is not None and line.index < header.size:
                old_line = _next_old(older, line.index, old_line)
                if (
                    old_line is not None
                    and old_line.index == line.index
                    and old_line.data != line.data
                ):
                    result.add(
                        where,
                        f"differs from the same entry of the older copy (line "
                        f"{old_line.number}): the history was rewritten",
                    )
        tree.grow(leaves)
        count += len(page)
        if progress is not None:
            progress(len(page))
    return count


def _next_old(older: Iterator[Line], index: int, current: Line | None) -> Line | None:
    """The older copy's entry ``index`` (its entries are consecutive: it was checked first)."""
    if current is not None and current.index >= index:
        return current if current.index == index else None
    for line in older:
        if line.index >= index:
            return line
    return None


def _check_text(line: Line, where: str, result: WitnessResult) -> None:
    try:
        value = loads(line.data)
    except ValueError:
        result.add(where, "the canonical text is not JSON")
        return
    if not isinstance(value, dict) or value.get("index") != line.index:
        named = value.get("index") if isinstance(value, dict) else None
        result.add(where, f"the canonical text names index {named!r}, not {line.index}")
    elif canonical_bytes_of_plain(value) != line.data:
        result.add(where, "the text is not in canonical form")


def _trusted_key(
    header: Header, key: Path | None, older_header: Header | None, result: WitnessResult
) -> Ed25519PublicKey:
    if key is not None:
        result.key_source = f"the key in {key}"
        return load_key(key)
    source = older_header or header
    if source.public_key is None:
        raise WitnessInputError(source.path, 1, "the header has no public key: pass --key")
    result.key_source = (
        f"the key of the older copy {source.path}"
        if older_header is not None
        else "the key the export carries (pass --key to use one you obtained elsewhere)"
    )
    return _public_key(source.path, source.public_key.encode("ascii"))


def _signed(header: Header, public: Ed25519PublicKey, result: WitnessResult, what: str) -> bool:
    try:
        signed = parse_and_verify(header.checkpoint, public, name=header.origin)
    except CheckpointError as exc:
        result.add(f"{what} checkpoint", str(exc))
        return False
    if (signed.origin, signed.size, signed.root) != (header.origin, header.size, header.root):
        result.add(
            f"{what} checkpoint",
            f"the header says size {header.size} root {header.root.hex()}, the signed checkpoint "
            f"size {signed.size} root {signed.root.hex()}",
        )
        return False
    return True


def witness(
    path: Path,
    *,
    against: Path | None = None,
    checkpoint: Path | None = None,
    key: Path | None = None,
    progress: Callable[[int], None] | None = None,
) -> WitnessResult:
    """Check the export at ``path`` (see the module docstring); raises
    :class:`WitnessInputError` on a file that is not a (complete) export."""
    result = WitnessResult()
    older_header = _open_header(against) if against is not None else None
    if older_header is not None and older_header.start != 0:
        raise WitnessInputError(
            older_header.path, 1, "the older copy must be a whole export (from entry 0)"
        )
    header = _open_header(path)
    public = _trusted_key(header, key, older_header, result)
    older: _Older | None = None
    if older_header is not None:
        inner = _run(older_header.path, public, None, None)
        for problem in inner.problems:
            result.add(f"older copy {older_header.path}: {problem.where}", problem.message)
        older = _Older(
            older_header.size,
            older_header.root,
            f"the older copy {older_header.path}",
            older_header.path,
        )
    elif checkpoint is not None:
        older = _older_checkpoint(checkpoint, header, public, result)
    if not result.ok:
        return result
    outcome = _run(path, public, older, progress)
    outcome.key_source = result.key_source
    outcome.notes[:0] = result.notes
    return outcome


def _run(
    path: Path,
    public: Ed25519PublicKey,
    older: _Older | None,
    progress: Callable[[int], None] | None,
) -> WitnessResult:
    """One pass over one export, compared with what the witness holds (``older``)."""
    result = WitnessResult()
    with path.open("rb") as handle, _maybe_open(older.copy if older else None) as old_handle:
        header = read_header(path, handle)
        result.start, result.size = header.start, header.size
        if not _signed(header, public, result, "export"):
            return result
        tree = _start_tree(header, older, result)
        old_lines = None
        if old_handle is not None and older is not None and older.copy is not None:
            read_header(older.copy, old_handle)
            old_lines = read_entries(older.copy, old_handle)
        count = _check_entries(header, handle, result, tree, old_lines, progress)
    if count != header.size - header.start:
        raise WitnessInputError(
            path,
            None,
            f"the file holds {count} entries but its header announces "
            f"{header.size - header.start} (entries {header.start}–{header.size - 1}): "
            "the export is incomplete; fetch it again",
        )
    result.root = merkle.fold(tree.border)
    if result.root != header.root:
        result.add(
            "root",
            f"the root of the exported entries is {result.root.hex()}, the signed checkpoint's "
            f"{header.root.hex()}: an entry was changed, added or removed",
        )
    _check_consistency(header, older, tree, result)
    return result


def _open_header(path: Path) -> Header:
    try:
        with path.open("rb") as handle:
            return read_header(path, handle)
    except OSError as exc:
        raise WitnessInputError(path, None, f"cannot read: {exc.strerror}") from None


class _maybe_open:
    def __init__(self, path: Path | None) -> None:
        self.path = path
        self.handle: IO[bytes] | None = None

    def __enter__(self) -> IO[bytes] | None:
        if self.path is not None:
            self.handle = self.path.open("rb")
        return self.handle

    def __exit__(self, *exc: object) -> None:
        if self.handle is not None:
            self.handle.close()


def _older_checkpoint(
    path: Path, header: Header, public: Ed25519PublicKey, result: WitnessResult
) -> _Older | None:
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise WitnessInputError(path, None, f"cannot read the checkpoint: {exc}") from None
    try:
        signed = parse_and_verify(text, public, name=header.origin)
    except CheckpointError as exc:
        result.add(f"older checkpoint {path}", str(exc))
        return None
    return _Older(signed.size, signed.root, f"the older checkpoint {path}")


def _start_tree(header: Header, older: _Older | None, result: WitnessResult) -> _Tree:
    if header.base is None:
        tree = _Tree(size=0, border=[])
        if older is not None and 0 < older.size < header.size:
            tree.mark = older.size
            tree.wanted = {
                k for el in merkle.consistency_proof_plan(older.size, header.size) for k in el
            }
        elif older is not None and older.size == header.size:
            tree.mark = older.size
        return tree
    base = header.base
    if merkle.fold(base.border) != base.root:
        result.add("base", "the header's base border does not fold to the base root")
    if older is not None and older.size != base.size:
        raise WitnessInputError(
            header.path,
            1,
            f"the export starts at entry {base.size} but {older.what} is of size {older.size}; "
            f"ask for an export --from {older.size} (or a whole one)",
        )
    return _Tree(size=base.size, border=list(base.border))


def _check_consistency(
    header: Header, older: _Older | None, tree: _Tree, result: WitnessResult
) -> None:
    """RFC 9162 §2.1.4.2: the signed tree of ``header.size`` extends the older tree."""
    if header.base is not None:
        base = header.base
        if older is not None and older.root != base.root:
            result.add(
                f"entry {base.size - 1}",
                f"the export extends a tree of {base.size} entries with root {base.root.hex()}, "
                f"but {older.what} has root {older.root.hex()}: the history was rewritten",
            )
        try:
            merkle.verify_consistency(
                base.size, header.size, base.root, header.root, base.consistency
            )
        except merkle.ProofError as exc:
            result.add("consistency", f"the proof from size {base.size} does not verify: {exc}")
        if older is None:
            result.notes.append(
                f"no older copy or checkpoint given: the base of {base.size} entries was not "
                "compared with anything you hold"
            )
        return
    if older is None or older.size == 0:
        return
    if older.size > header.size:
        result.add(
            f"entry {header.size}",
            f"{older.what} holds {older.size} entries, the export only {header.size}: "
            "entries were removed",
        )
        return
    marked = merkle.fold(tree.marked or [])
    if marked != older.root:
        result.add(
            "consistency",
            f"the root of the export's first {older.size} entries is {marked.hex()}, "
            f"{older.what} has {older.root.hex()}: the history was rewritten",
        )
        return
    plan = merkle.consistency_proof_plan(older.size, header.size)
    try:
        proof = merkle.fold_plan(plan, tree.nodes)
        merkle.verify_consistency(older.size, header.size, older.root, header.root, proof)
    except (merkle.ProofError, merkle.MissingNodeError) as exc:
        result.add("consistency", f"no consistency from size {older.size}: {exc}")
