"""Fellegi–Sunter weights of identity matching: per field, discrete levels of agreement, each
with a match weight ``log2(m / u)``; a pair's weight is the prior's log-odds plus the weights
of its levels, and its probability of being one person ``2^W / (1 + 2^W)``.

(Fellegi, I. P. and Sunter, A. B., "A Theory for Record Linkage", Journal of the American
Statistical Association 64 (1969) 1183–1210; the estimation follows Winkler, "Using the EM
algorithm for weight computation in the Fellegi–Sunter model of record linkage", 1988, and
the term-frequency adjustment of the same literature. Mandela Rule 7(a): one unique identity
per person, so the reasons for judging two records one person must be shown.)

* ``m`` — the probability of a level among pairs that are one person — is estimated by
  expectation maximisation over blocked candidate pairs (:func:`train`), ``u`` fixed.
* ``u`` — its probability among pairs that are not — is the share of the level among
  randomly sampled pairs (fixed seed: the same data gives the same parameters).
* **Term frequencies**: exact agreement on a name counts with ``u`` = the name's share of the
  registry (``Hernández`` agrees by chance far more often than ``Xolotl``), not the average.

The parameters (:class:`Params`) are a small JSON document: the shipped defaults
(``weights_default.json``, trained on the generated Spanish-name lists) until
``habeas train-matcher`` writes ``HABEAS_HOME/matcher/params.json`` from the registry.
"""

from __future__ import annotations

import json
import math
import random
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

#: The comparisons and their levels, best first (a level's index is its code; -1 = a side
#: unknown, weight 0). Labels are what staff read beside each weight.
LEVELS: dict[str, tuple[str, ...]] = {
    "given": (
        "exact",
        "same first name",
        "Jaro-Winkler ≥ 0.92",
        "Jaro-Winkler ≥ 0.88",
        "initial agrees",
        "different",
    ),
    "surnames": (
        "exact",
        "same, other order",
        "one missing, the other exact",
        "Jaro-Winkler ≥ 0.92",
        "Jaro-Winkler ≥ 0.88",
        "one surname in common",
        "different",
    ),
    "date_of_birth": (
        "exact",
        "day and month swapped",
        "one keystroke apart",
        "same year and month",
        "same day and month, next year",
        "same year",
        "same month (partly known)",
        "day and month swapped (partly known)",
        "same year (partly known)",
        "next year (partly known)",
        "different",
        "different (partly known)",
    ),
    "nationality": ("shared", "disjoint"),
    "sex": ("same", "differs"),
}
FIELDS = tuple(LEVELS)
#: Levels compared only among themselves: a date known to the year or month can only agree
#: that far, so its levels' ``m`` and ``u`` are shares among the pairs where one date is
#: partly known (otherwise a partial date, rare among random pairs, would itself count as
#: agreement).
CLASSES: dict[str, tuple[frozenset[int], ...]] = {
    "date_of_birth": (frozenset({0, 1, 2, 3, 4, 5, 10}), frozenset({6, 7, 8, 9, 11})),
}
#: Levels whose weight is term-frequency adjusted (exact name agreement).
TF_LEVELS = {"given": {0, 1}, "surnames": {0, 1, 2}}
#: Fixed weights, not estimated: a shared identity document (too rare to estimate, and
#: decisive), given names and surnames written in each other's fields.
IDENTIFIER_WEIGHT = 20.0
EXCHANGED_WEIGHT = -2.0
#: The smallest ``u`` of a term-frequency adjusted level (a name seen once).
TF_MIN_U = 1e-6
#: Matches the EM must find among the blocked pairs for its ``m`` to replace the start.
MIN_MATCHES = 50
#: Random pairs a field's disagreement must be seen in to be estimated.
MIN_OBSERVED = 30
#: Probabilities kept inside (0, 1), so every weight is finite.
EPS = 1e-6

PARAMS_VERSION = 1
DEFAULT_PATH = Path(__file__).with_name("weights_default.json")


@dataclass
class Params:
    """A trained model: ``m`` and ``u`` per field and level, the prior, token frequencies."""

    m: dict[str, list[float]]
    u: dict[str, list[float]]
    #: The probability that a manifest record is already in the registry, before comparing.
    match_share: float = 0.5
    #: People compared against when trained (the prior of one pair is ``match_share / size``).
    size: int = 1000
    #: Token counts of given names and surnames (``tf["surnames"]["hernandez"]``) and totals.
    tf: dict[str, dict[str, int]] = field(default_factory=dict)
    tf_total: dict[str, int] = field(default_factory=dict)
    trained_on: str = ""
    version: int = PARAMS_VERSION
    _weights: dict[str, list[float]] | None = field(default=None, repr=False, compare=False)

    @property
    def prior_weight(self) -> float:
        """The prior's log2-odds that two records compared are one person."""
        p = min(max(self.match_share / max(self.size, 1), EPS * EPS), 1 - EPS)
        return math.log2(p / (1 - p))

    @property
    def weights(self) -> dict[str, list[float]]:
        if self._weights is None:
            self._weights = {
                f: [
                    math.log2(max(mi, EPS) / max(ui, EPS))
                    for mi, ui in zip(self.m[f], self.u[f], strict=True)
                ]
                for f in FIELDS
            }
        return self._weights

    def tf_weight(self, column: str, level: int, words: Sequence[str]) -> float:
        """The weight of an exact name agreement on ``words``: ``log2(m / u_tf)`` with
        ``u_tf`` the share of the registry's records having that name (the whole name);
        the level's average weight when no frequencies were gathered."""
        table = self.tf.get(column)
        total = self.tf_total.get(column, 0)
        if not table or not total or not words:
            return self.weights[column][level]
        u = max(table.get(" ".join(words), 1), 1) / total
        return math.log2(max(self.m[column][level], EPS) / max(u, TF_MIN_U))

    def to_json(self) -> dict[str, Any]:
        return {
            "version": self.version,
            "trained_on": self.trained_on,
            "match_share": self.match_share,
            "size": self.size,
            "m": {f: [round(x, 8) for x in v] for f, v in self.m.items()},
            "u": {f: [round(x, 10) for x in v] for f, v in self.u.items()},
            "tf_total": self.tf_total,
            "tf": self.tf,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Params:
        if data.get("version") != PARAMS_VERSION:
            raise ValueError(f"matcher parameters version {data.get('version')!r}")
        return cls(
            m={f: list(data["m"][f]) for f in FIELDS},
            u={f: list(data["u"][f]) for f in FIELDS},
            match_share=float(data["match_share"]),
            size=int(data["size"]),
            tf={k: dict(v) for k, v in data.get("tf", {}).items()},
            tf_total={k: int(v) for k, v in data.get("tf_total", {}).items()},
            trained_on=str(data.get("trained_on", "")),
        )

    def save(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps(self.to_json(), sort_keys=True, ensure_ascii=False), "utf-8")
        tmp.replace(path)


def load(path: Path) -> Params:
    return Params.from_json(json.loads(path.read_text("utf-8")))


def registry_path() -> Path:
    from django.conf import settings

    return Path(settings.HABEAS_HOME) / "matcher" / "params.json"


_current: Params | None = None
_current_key: tuple[str, float] | None = None


def current() -> Params:
    """The registry's trained parameters (``habeas train-matcher``), else the shipped ones;
    re-read when the file changes."""
    global _current, _current_key
    path = DEFAULT_PATH
    from django.conf import settings

    if settings.configured:
        candidate = registry_path()
        if candidate.is_file():
            path = candidate
    key = (str(path), path.stat().st_mtime)
    if _current is None or key != _current_key:
        _current, _current_key = load(path), key
    return _current


def reset() -> None:
    """Forget the loaded parameters (tests that train)."""
    global _current, _current_key
    _current, _current_key = None, None


# --- training --------------------------------------------------------------------------

Vector = tuple[int, ...]


def _count_levels(vectors: Iterable[Vector]) -> dict[str, list[float]]:
    counts = {f: [0.0] * len(LEVELS[f]) for f in FIELDS}
    for vec in vectors:
        for f, lv in zip(FIELDS, vec, strict=True):
            if lv >= 0:
                counts[f][lv] += 1
    return counts


def _normalise(counts: dict[str, list[float]], floor: float) -> dict[str, list[float]]:
    out = {}
    for f, row in counts.items():
        total = sum(row)
        if total <= 0:
            out[f] = [1.0 / len(row)] * len(row)
            continue
        # Add a small floor so an unseen level keeps a finite weight.
        row = [x / total + floor for x in row]
        result = [0.0] * len(row)
        for members in CLASSES.get(f, (frozenset(range(len(row))),)):
            s = sum(row[i] for i in members)
            for i in members:
                result[i] = row[i] / s
        out[f] = result
    return out


def estimate_u(vectors: Iterable[Vector]) -> dict[str, list[float]]:
    """``u`` per level: the level's share among randomly sampled pairs."""
    return _normalise(_count_levels(vectors), 1e-7)


def estimate_m(
    vectors: Iterable[Vector],
    u: dict[str, list[float]],
    m0: dict[str, list[float]],
    *,
    iterations: int = 25,
    share0: float = 0.3,
    skip: frozenset[str] = frozenset(),
    freeze: frozenset[str] = frozenset(),
) -> tuple[dict[str, list[float]], float]:
    """``m`` per level by expectation maximisation over blocked pairs (``u`` fixed, as
    estimated from random pairs), and the share of blocked pairs that match. Fields in
    ``skip`` (those the pairs were blocked on: they agree by construction) take no part and
    keep their ``m``; fields in ``freeze`` count in the likelihood but keep their ``m``
    (estimated by an earlier session). Identical vectors are folded into counts, so an
    iteration costs the
    number of distinct vectors."""
    distinct = Counter(vectors)
    if not distinct:
        return m0, share0
    m = {f: list(v) for f, v in m0.items()}
    share = share0
    items = sorted(distinct.items())
    for _ in range(iterations):
        counts = {f: [0.0] * len(LEVELS[f]) for f in FIELDS}
        matched = 0.0
        total = 0.0
        for vec, n in items:
            lm = math.log(share)
            lu = math.log(1 - share)
            for f, lv in zip(FIELDS, vec, strict=True):
                if lv >= 0 and f not in skip:
                    lm += math.log(max(m[f][lv], EPS))
                    lu += math.log(max(u[f][lv], EPS))
            diff = lu - lm
            p = 1.0 / (1.0 + math.exp(diff)) if diff < 700 else 0.0
            matched += p * n
            total += n
            for f, lv in zip(FIELDS, vec, strict=True):
                if lv >= 0:
                    counts[f][lv] += p * n
        share = min(max(matched / total, EPS), 1 - EPS)
        fresh = _normalise(counts, 1e-5)
        m = {f: (m[f] if f in skip or f in freeze else fresh[f]) for f in FIELDS}
    return m, share


def estimate_share(
    vectors: Sequence[Vector], m: dict[str, list[float]], u: dict[str, list[float]]
) -> float:
    """The share of ``vectors`` that match, ``m`` and ``u`` fixed (EM on the share alone)."""
    distinct = sorted(Counter(vectors).items())
    ratios = []
    for vec, n in distinct:
        lr = 0.0
        for f, lv in zip(FIELDS, vec, strict=True):
            if lv >= 0:
                lr += math.log(max(m[f][lv], EPS)) - math.log(max(u[f][lv], EPS))
        ratios.append((min(lr, 700.0), n))
    total = sum(n for _, n in distinct)
    share = 0.3
    for _ in range(50):
        odds = share / (1 - share)
        matched = sum(n / (1.0 + math.exp(-lr) / odds) for lr, n in ratios)
        share = min(max(matched / max(total, 1), EPS), 1 - EPS)
    return share


def token_counts(records: Iterable[Any]) -> tuple[dict[str, dict[str, int]], dict[str, int]]:
    """Given-name and surname token counts over ``records`` (``PersonRecord``s): the
    term-frequency table."""
    given: Counter[str] = Counter()
    surnames: Counter[str] = Counter()
    n_given = n_surnames = 0
    for r in records:
        v = r.variants[0]
        if v.given:
            n_given += 1
            given.update(_values(v.given))
        if v.surnames:
            n_surnames += 1
            surnames.update(_values(v.surnames))
    return (
        {"given": dict(given), "surnames": dict(surnames)},
        {"given": n_given, "surnames": n_surnames},
    )


def _values(words: tuple[str, ...]) -> set[str]:
    """What a term frequency counts of a name: each word, and the whole name when it has
    several (an exact agreement on ``Julio César`` counts the pair, not each word)."""
    found = set(words)
    if len(words) > 1:
        found.add(" ".join(words))
    return found


def train(
    left: Sequence[Any],
    right: Sequence[Any],
    blocked: Any,
    compare: Callable[[Any, Any], Vector],
    *,
    start: Params,
    seed: int = 42,
    u_pairs: int = 200_000,
    trained_on: str = "",
    registry: bool = False,
    share_pairs: Sequence[tuple[Any, Any]] | None = None,
) -> Params:
    """Parameters estimated from the data: ``u`` from ``u_pairs`` random pairs of ``left`` ×
    ``right`` (``seed``), term frequencies from ``right`` (the registry), ``m`` by EM over the
    ``blocked`` candidate pairs starting from ``start``. ``registry``: ``left`` and ``right``
    are one list (a record is never paired with itself; the prior's share stays
    ``start``'s). Otherwise the prior's share is the EM's expected number of matches over
    the size of ``left``."""
    rng = random.Random(seed)
    sample = []
    if left and right:
        for _ in range(u_pairs):
            a = left[rng.randrange(len(left))]
            b = right[rng.randrange(len(right))]
            if registry and a is b:
                continue
            sample.append(compare(a, b))
    u = estimate_u(sample) if sample else start.u
    # Like Splink's training sessions: pairs blocked on the date estimate the names' m,
    # pairs blocked on the names the date's (and the rest), each leaving out what it was
    # blocked on; ``blocked`` is one list of pairs or ``(pairs, skipped fields, frozen
    # fields)`` sessions.
    sessions = blocked if isinstance(blocked, tuple) else ((blocked, frozenset(), frozenset()),)
    m = {f: list(v) for f, v in start.m.items()}
    share, n_pairs = 0.0, 0
    for session_pairs, skip, freeze in sessions:
        pairs = [compare(a, b) for a, b in session_pairs]
        if not pairs:
            continue
        found, s_share = estimate_m(pairs, u, m, skip=skip, freeze=freeze)
        if s_share * len(pairs) >= MIN_MATCHES:
            m = found
            if not skip or share == 0.0:
                share, n_pairs = s_share, len(pairs)
    # A field whose disagreement the random pairs hardly ever show (a list where everyone
    # has one sex) cannot be estimated: it keeps where it started.
    seen = _count_levels(sample)
    for f in FIELDS:
        if seen[f][-1] < MIN_OBSERVED:
            m[f], u[f] = list(start.m[f]), list(start.u[f])
    tf, tf_total = token_counts(right)
    if share_pairs is not None:
        vectors = [compare(a, b) for a, b in share_pairs]
        share, n_pairs = estimate_share(vectors, m, u), len(vectors)
    if registry:
        match_share, size = start.match_share, max(len(right), 1000)
    else:
        expected = share * n_pairs
        match_share = min(max(expected / max(len(left), 1), EPS), 1.0)
        size = max(len(right), 1)
    return Params(
        m=m,
        u=u,
        match_share=match_share,
        size=size,
        tf=tf,
        tf_total=tf_total,
        trained_on=trained_on,
    )
