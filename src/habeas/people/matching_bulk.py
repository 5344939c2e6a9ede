"""Scoring many candidate pairs at once (ISSUE 15 item 3: intake against a registry of
millions; the rules are those of :mod:`habeas.people.matching`, Fellegi–Sunter with
term-frequency adjustments, Mandela Rule 7(a)).

:func:`score_pairs` gives each pair of a batch the same weight and score as
:func:`habeas.people.matching.score` — the same levels, the same weights, the weight summed
exactly (``math.fsum``) and the probability rounded the same way — without running the
per-pair comparison for each of them:

* each record's names, date of birth, sex and nationalities are read **once per record**
  (not once per pair) into integer arrays: the name and surname word lists are interned, so
  a pair's names are two integers;
* the name levels are computed **once per distinct pair of word lists** of the batch (a
  registry and a manifest share a small vocabulary: thousands of pairs, a few hundred
  distinct given-name pairs) and spread to the pairs with numpy;
* the date-of-birth levels, including the one-keystroke test (Damerau–Levenshtein ≤ 1 of the
  ``YYYYMMDD`` digits: one digit changed, or two neighbours exchanged), and the sex and
  nationality levels are numpy array expressions over all pairs;
* the weights are table look-ups; the total of each pair is ``math.fsum`` over its columns
  (exact, so in any order the same float as the per-pair sum).

A pair in which either record has an alias (several readings of its names) is compared by
the per-pair code (:func:`habeas.people.matching._fields`): rare, and its pairings of names
are many. The labels, reasons and contributions of a match are written by the per-pair code
for the pairs that reach *possible* only (:func:`habeas.people.matching._judged`).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from rapidfuzz import process
from rapidfuzz.distance import JaroWinkler

from habeas.people import weights
from habeas.people.matching import (
    _BELOW_SAME,
    _DISAGREEING_DATES,
    _PRECISION,
    _SURNAMES_DIFFERENT,
    CAP_DISAGREEING_DATES,
    SURNAMES_FAR,
    Match,
    PersonRecord,
    _bag_score,
    _explained,
    _fields,
    _nat_set,
    _one_edit,
    band_for,
    given_level,
    surname_level,
)

_I = np.int64


@dataclass
class PairScores:
    """Per pair: the levels (as :func:`habeas.people.matching._fields` names them), the
    summed weight and the rounded score (the probability, capped as the per-pair code caps
    it)."""

    given: np.ndarray
    surnames: np.ndarray
    date_of_birth: np.ndarray
    nationality: np.ndarray
    sex: np.ndarray
    exchanged: np.ndarray
    same_id: np.ndarray
    far: np.ndarray
    alias: np.ndarray
    given_weight: np.ndarray
    surnames_weight: np.ndarray
    total: list[float]
    score: list[float]


class _Features:
    """One side's records as arrays (read once per record)."""

    def __init__(self, records: Sequence[PersonRecord], words: dict[tuple[str, ...], int]):
        simple, given, surnames, g0, s0 = [], [], [], [], []
        known, year, month, day, precision, sex, nats, ids = [], [], [], [], [], [], [], []
        nat_ids: dict[frozenset[str], int] = {}
        self.nat_sets: list[frozenset[str]] = []
        sexes = {"M": 1, "F": 2}
        levels = _PRECISION
        intern = words.setdefault
        for r in records:
            variants = r.variants
            main = variants[0]
            simple.append(len(variants) == 1)
            given.append(intern(main.given, len(words)))
            surnames.append(intern(main.surnames, len(words)))
            g0.append(ord(main.given[0][0]) if main.given else -1)
            s0.append(ord(main.surnames[0][0]) if main.surnames else -1)
            d = r.date_of_birth
            if d is not None:
                known.append(True)
                year.append(d.year)
                month.append(d.month)
                day.append(d.day)
                precision.append(levels.get(r.dob_precision, 2))
            else:
                known.append(False)
                year.append(0)
                month.append(0)
                day.append(0)
                precision.append(0)
            sex.append(sexes.get(r.sex, 0))
            k = -1
            if r.nationalities:
                ns = _nat_set(r.nationalities)
                k = nat_ids.get(ns, -1)
                if k < 0:
                    k = nat_ids[ns] = len(self.nat_sets)
                    self.nat_sets.append(ns)
            nats.append(k)
            ids.append(bool(r.identifiers))
        self.simple = np.array(simple, dtype=bool)
        self.given = np.array(given, dtype=_I)
        self.surnames = np.array(surnames, dtype=_I)
        self.g0 = np.array(g0, dtype=_I)  # first character of the first given word, or -1
        self.s0 = np.array(s0, dtype=_I)  # and of the first surname word
        self.known = np.array(known, dtype=bool)
        self.year = np.array(year, dtype=_I)
        self.month = np.array(month, dtype=_I)
        self.day = np.array(day, dtype=_I)
        self.precision = np.array(precision, dtype=_I)
        self.sex = np.array(sex, dtype=_I)
        self.nats = np.array(nats, dtype=_I)
        self.ids = np.array(ids, dtype=bool)


def _distinct(
    left: np.ndarray, right: np.ndarray, width: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The distinct ``(left, right)`` pairs and, for each pair, the index of its distinct one."""
    keys = left * width + right
    unique, inverse = np.unique(keys, return_inverse=True)
    return unique // width, unique % width, inverse.reshape(-1)


def _name_levels(
    a_words: np.ndarray,
    b_words: np.ndarray,
    table: list[tuple[str, ...]],
    params: weights.Params,
    *,
    given: bool,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Level, weight (0 for an unknown side) and bag similarity (of surnames judged
    *different*, else 0) of each pair of word lists, computed once per distinct pair."""
    width = max(len(table), 1)
    ua, ub, inverse = _distinct(a_words, b_words, width)
    w = params.weights
    levels = np.empty(len(ua), dtype=_I)
    values = np.empty(len(ua), dtype=np.float64)
    bags = np.zeros(len(ua), dtype=np.float64)
    column = "given" if given else "surnames"
    pending: Sequence[int] = range(len(ua))
    if not given:
        pending = _surname_levels(ua, ub, table, params, levels, values, bags)
    xs, ys = ua.tolist(), ub.tolist()
    for k in pending:
        a, b = table[xs[k]], table[ys[k]]
        if given:
            lv, tf = given_level(a, b)
            value = params.tf_weight(column, lv, tf) if tf else (w[column][lv] if lv >= 0 else 0.0)
        else:
            lv, tf = surname_level(a, b)
            value = 0.0
            if lv >= 0:
                value = params.tf_weight(column, lv, tf) if tf else w[column][lv]
            if lv == _SURNAMES_DIFFERENT:
                bags[k] = _bag_score(a, b) or 0.0
        levels[k] = lv
        values[k] = value
    return levels[inverse], values[inverse], bags[inverse]


def _token_sims(x: np.ndarray, y: np.ndarray, words: list[str]) -> np.ndarray:
    """:func:`habeas.people.matching._token_sim` of each pair of word ids: once per distinct
    pair, the Jaro–Winkler similarities by rapidfuzz's ``cpdist`` in one call."""
    width = max(len(words), 1)
    ux, uy, inverse = _distinct(x, y, width)
    first = [words[i] for i in ux.tolist()]
    second = [words[i] for i in uy.tolist()]
    sims = process.cpdist(first, second, scorer=JaroWinkler.normalized_similarity, dtype=np.float64)
    sims = np.asarray(sims, dtype=np.float64).reshape(-1)
    for k, (a, b) in enumerate(zip(first, second, strict=True)):
        if len(a) == 1 or len(b) == 1:  # an initial
            sims[k] = 0.92 if a[0] == b[0] else 0.0
        elif a == b:
            sims[k] = 1.0
    return sims[inverse]


def _surname_levels(
    ua: np.ndarray,
    ub: np.ndarray,
    table: list[tuple[str, ...]],
    params: weights.Params,
    levels: np.ndarray,
    values: np.ndarray,
    bags: np.ndarray,
) -> list[int]:
    """:func:`habeas.people.matching.surname_level` of the distinct pairs whose lists have
    one or two words each, as array expressions (level, weight, and the bag similarity of
    a pair judged *different*, into ``levels``, ``values``, ``bags``); returns the indices
    of the other pairs (an empty list, three words or more), left to the per-pair code."""
    m = len(ua)
    word_ids: dict[str, int] = {}
    shape = np.zeros((len(table), 3), dtype=_I)  # length, first word, second word (-1)
    for k, t in enumerate(table):
        shape[k, 0] = len(t)
        shape[k, 1] = word_ids.setdefault(t[0], len(word_ids)) if t else -1
        shape[k, 2] = word_ids.setdefault(t[1], len(word_ids)) if len(t) > 1 else -1
    words = [""] * len(word_ids)
    for text, i in word_ids.items():
        words[i] = text
    la, a0, a1 = shape[ua, 0], shape[ua, 1], shape[ua, 2]
    lb, b0, b1 = shape[ub, 0], shape[ub, 1], shape[ub, 2]
    handled = (la >= 1) & (la <= 2) & (lb >= 1) & (lb <= 2)
    rest = np.flatnonzero(~handled).tolist()
    if len(rest) == m:
        return rest
    # the shorter list's words against the longer's (``a`` is the shorter when as long)
    swap = la > lb
    s0, s1, t0, t1 = (np.where(swap, b0, a0), np.where(swap, b1, a1),
                      np.where(swap, a0, b0), np.where(swap, a1, b1))  # fmt: skip
    short, long_ = np.minimum(la, lb), np.maximum(la, lb)
    need_x = [s0, s0]
    need_y = [t0, np.where(long_ == 2, t1, t0)]
    two = handled & (short == 2)
    need_x += [np.where(two, s1, s0), np.where(two, s1, s0)]
    need_y += [np.where(two, t1, t0), np.where(two, t0, t0)]
    x, y = np.concatenate(need_x), np.concatenate(need_y)
    # the pairs left to the per-pair code may hold no word (-1): any word stands in
    sims = _token_sims(np.maximum(x, 0), np.maximum(y, 0), words).reshape(4, m)
    s00, s01, s11, s10 = sims
    # one word against one or two: its best partner; two against two: the best assignment
    one_total = np.maximum(s00, s01)
    two_total = np.maximum(s00 + s11, s01 + s10)
    score = np.where(short == 1, one_total, two_total / 2)
    score = np.where(short != long_, score * 0.96, score)
    equal = (la == lb) & (a0 == b0) & (a1 == b1)
    reordered = (la == 2) & (lb == 2) & (a0 == b1) & (a1 == b0)
    subset = (short == 1) & (long_ == 2) & ((s0 == t0) | (s0 == t1))
    common = (a0 == b0) | ((a1 >= 0) & ((a1 == b0) | (a1 == b1))) | ((b1 >= 0) & (a0 == b1))
    level = np.select(
        [equal, reordered, subset, score >= 0.92, score >= 0.88, common],
        [0, 1, 2, 3, 4, 5],
        default=_SURNAMES_DIFFERENT,
    )
    w = params.weights["surnames"]
    tf_values: dict[tuple[int, tuple[str, ...]], float] = {}
    for k in np.flatnonzero(handled).tolist():
        lv = int(level[k])
        levels[k] = lv
        if lv <= 2:  # the words an exact agreement counts: the first list, or the shorter
            words_tf = table[int(ua[k])] if lv < 2 or not swap[k] else table[int(ub[k])]
            key = (lv, words_tf)
            found = tf_values.get(key)
            if found is None:
                found = tf_values[key] = params.tf_weight("surnames", lv, words_tf)
            values[k] = found
        else:
            values[k] = w[lv]
            if lv == _SURNAMES_DIFFERENT:
                bags[k] = score[k]
    return rest


def _one_edit_digits(ya: Any, ma: Any, da: Any, yb: Any, mb: Any, db: Any) -> np.ndarray:
    """Whether the ``YYYYMMDD`` digits of two different dates (years of four digits) are one
    keystroke apart: one digit changed, or two neighbouring digits exchanged (the
    Damerau–Levenshtein distance of two strings of one length is 1 only so)."""
    va = ya * 10000 + ma * 100 + da
    vb = yb * 10000 + mb * 100 + db
    digits_a = np.stack([(va // 10**k) % 10 for k in range(8)], axis=1)
    digits_b = np.stack([(vb // 10**k) % 10 for k in range(8)], axis=1)
    diff = digits_a != digits_b
    count = diff.sum(axis=1)
    # exactly two differences, at neighbouring positions, holding each other's digits
    swapped = (
        diff[:, :-1]
        & diff[:, 1:]
        & (digits_a[:, :-1] == digits_b[:, 1:])
        & (digits_a[:, 1:] == digits_b[:, :-1])
    ).any(axis=1)
    return (count <= 1) | ((count == 2) & swapped)


def _dob_levels(fa: _Features, fb: _Features, ia: np.ndarray, ib: np.ndarray) -> np.ndarray:
    """:func:`habeas.people.matching.dob_level` of every pair, as array expressions."""
    n = len(ia)
    known = fa.known[ia] & fb.known[ib]
    ya, ma, da = fa.year[ia], fa.month[ia], fa.day[ia]
    yb, mb, db = fb.year[ib], fb.month[ib], fb.day[ib]
    pa, pb = fa.precision[ia], fb.precision[ib]
    level = np.minimum(pa, pb)
    same_y = ya == yb
    next_y = np.abs(ya - yb) == 1
    same_m = ma == mb
    out = np.full(n, -1, dtype=_I)

    # known to the year (by one side at least)
    at_year = np.where(same_y, 8, np.where(next_y, 9, 11))
    # known to the month
    month_swapped = ((pa == 2) & (pb == 1) & (da == mb)) | ((pa == 1) & (pb == 2) & (db == ma))
    at_month = np.where(
        same_y & same_m,
        6,
        np.where(same_y, np.where(month_swapped, 7, 11), np.where(same_m & next_y, 9, 11)),
    )
    # known to the day by both
    equal = same_y & same_m & (da == db)
    day_swapped = same_y & (da == mb) & (ma == db)
    four = (ya >= 1000) & (ya <= 9999) & (yb >= 1000) & (yb <= 9999)
    one_edit = np.zeros(n, dtype=bool)
    full = known & (level == 2) & ~equal & ~day_swapped
    fast = full & four
    if fast.any():
        one_edit[fast] = _one_edit_digits(
            ya[fast], ma[fast], da[fast], yb[fast], mb[fast], db[fast]
        )
    slow = np.flatnonzero(full & ~four)
    if len(slow):
        import datetime as dt

        for k in slow.tolist():
            one_edit[k] = _one_edit(
                dt.date(int(ya[k]), int(ma[k]), int(da[k])),
                dt.date(int(yb[k]), int(mb[k]), int(db[k])),
            )
    at_day = np.select(
        [
            equal,
            day_swapped,
            one_edit,
            same_y & same_m,
            same_m & (da == db) & next_y,
            same_y,
        ],
        [0, 1, 2, 3, 4, 5],
        default=10,
    )
    out = np.where(level == 0, at_year, np.where(level == 1, at_month, at_day))
    return np.where(known, out, -1)


def score_pairs(
    left: Sequence[PersonRecord],
    right: Sequence[PersonRecord],
    ia: Sequence[int] | np.ndarray,
    ib: Sequence[int] | np.ndarray,
    params: weights.Params | None = None,
) -> PairScores:
    """Levels, weight and score of each pair ``(left[ia[k]], right[ib[k]])`` (module
    docstring): the same as :func:`habeas.people.matching.score` of the pair gives as
    ``weight`` (before its rounding to six places) and ``score``."""
    p = params or weights.current()
    w = p.weights
    ia = np.asarray(ia, dtype=_I)
    ib = np.asarray(ib, dtype=_I)
    n = len(ia)
    words: dict[tuple[str, ...], int] = {}
    fa = _Features(left, words)
    fb = _Features(right, words)
    table: list[tuple[str, ...]] = [()] * len(words)
    for t, k in words.items():
        table[k] = t

    # --- names: the written names, straight and with given names and surnames exchanged
    simple = fa.simple[ia] & fb.simple[ib]
    ga, sa = fa.given[ia], fa.surnames[ia]
    gb, sb = fb.given[ib], fb.surnames[ib]
    gl1, gv1, _ = _name_levels(ga, gb, table, p, given=True)
    sl1, sv1, bag1 = _name_levels(sa, sb, table, p, given=False)
    # exchanged: the first letters agree crosswise and each side has both parts
    a_g0, a_s0 = fa.g0[ia], fa.s0[ia]
    b_g0, b_s0 = fb.g0[ib], fb.s0[ib]
    crossed = (a_g0 >= 0) & (a_s0 >= 0) & (b_g0 >= 0) & (b_s0 >= 0)
    crossed &= (a_s0 == b_g0) & (a_g0 == b_s0)
    gl2 = np.full(n, -1, dtype=_I)
    sl2 = np.full(n, -1, dtype=_I)
    gv2 = np.zeros(n, dtype=np.float64)
    sv2 = np.zeros(n, dtype=np.float64)
    bag2 = np.zeros(n, dtype=np.float64)
    xs = np.flatnonzero(crossed & simple)
    if len(xs):
        gl2[xs], gv2[xs], _ = _name_levels(sa[xs], gb[xs], table, p, given=True)
        sl2[xs], sv2[xs], bag2[xs] = _name_levels(ga[xs], sb[xs], table, p, given=False)
    valid1 = sl1 >= 0
    valid2 = crossed & (sl2 >= 0)
    exchanged_weight = weights.EXCHANGED_WEIGHT
    total1 = gv1 + sv1 + 0.0
    total2 = gv2 + sv2 + exchanged_weight
    second = valid2 & (~valid1 | (total2 > total1))
    gl = np.where(second, gl2, gl1)
    sl = np.where(second, sl2, np.where(valid1, sl1, -1))
    gv = np.where(second, gv2, gv1)
    sv = np.where(second, sv2, np.where(valid1, sv1, 0.0))
    xv = np.where(second, exchanged_weight, 0.0)
    near = (valid1 & (sl1 == _SURNAMES_DIFFERENT) & (bag1 >= SURNAMES_FAR)) | (
        valid2 & (sl2 == _SURNAMES_DIFFERENT) & (bag2 >= SURNAMES_FAR)
    )
    far = (sl == _SURNAMES_DIFFERENT) & ~near

    # --- date of birth, nationality, sex, identifiers
    dl = _dob_levels(fa, fb, ia, ib)
    na, nb = fa.nats[ia], fb.nats[ib]
    nat = np.full(n, -1, dtype=_I)
    both = (na >= 0) & (nb >= 0)
    if both.any():
        width = max(len(fb.nat_sets), 1)
        ua, ub, inverse = _distinct(na[both], nb[both], width)
        disjoint = np.array(
            [
                1 if fa.nat_sets[x].isdisjoint(fb.nat_sets[y]) else 0
                for x, y in zip(ua.tolist(), ub.tolist(), strict=True)
            ],
            dtype=_I,
        )
        nat[both] = disjoint[inverse]
    xa, xb = fa.sex[ia], fb.sex[ib]
    sex = np.where((xa > 0) & (xb > 0), (xa != xb).astype(_I), -1)
    same_id = np.zeros(n, dtype=bool)
    for k in np.flatnonzero(fa.ids[ia] & fb.ids[ib]).tolist():
        a, b = left[int(ia[k])], right[int(ib[k])]
        same_id[k] = not set(a.identifiers).isdisjoint(b.identifiers)

    # --- pairs with an alias on either side: the per-pair comparison
    exchanged = second.copy()
    alias = np.zeros(n, dtype=bool)
    for k in np.flatnonzero(~simple).tolist():
        a, b = left[int(ia[k])], right[int(ib[k])]
        f = _fields(a, b, p)
        g_l, s_l, d_l, n_l, x_l, exch, _alias, sid, gw, sw, far_k = f
        gl[k], sl[k], dl[k], nat[k], sex[k] = g_l, s_l, d_l, n_l, x_l
        exchanged[k], same_id[k], far[k], alias[k] = exch, sid, far_k, _alias
        gv[k] = (p.tf_weight("given", g_l, gw) if gw else w["given"][g_l]) if g_l >= 0 else 0.0
        sv[k] = (
            (p.tf_weight("surnames", s_l, sw) if sw else w["surnames"][s_l]) if s_l >= 0 else 0.0
        )
        xv[k] = exchanged_weight if exch else 0.0

    # --- weights and totals (exact sums), probabilities and the caps
    def looked_up(name: str, levels: np.ndarray) -> np.ndarray:
        # level -1 (a side unknown) takes the appended 0.0
        return np.asarray([*w[name], 0.0], dtype=np.float64)[levels]

    dv = looked_up("date_of_birth", dl)
    nv = looked_up("nationality", nat)
    xv_sex = looked_up("sex", sex)
    iv = np.where(same_id, weights.IDENTIFIER_WEIGHT, 0.0)
    prior = p.prior_weight
    fsum = math.fsum
    total = [
        fsum(t)
        for t in zip(
            [prior] * n,
            gv.tolist(),
            sv.tolist(),
            xv.tolist(),
            dv.tolist(),
            nv.tolist(),
            xv_sex.tolist(),
            iv.tolist(),
            strict=True,
        )
    ]
    capped = (
        (np.isin(dl, list(_DISAGREEING_DATES)) | (sex == 1) | (far & (dl != 0))) & ~same_id
        if CAP_DISAGREEING_DATES
        else np.zeros(n, dtype=bool)
    )
    below = _BELOW_SAME
    score = [
        round(min(q, below) if c else q, 4)
        for q, c in zip(
            [1.0 / (1.0 + 2.0 ** (-t)) if t > -1000 else 0.0 for t in total],
            capped.tolist(),
            strict=True,
        )
    ]
    return PairScores(
        given=gl,
        surnames=sl,
        date_of_birth=dl,
        nationality=nat,
        sex=sex,
        exchanged=exchanged,
        same_id=same_id,
        far=far,
        alias=alias,
        given_weight=gv,
        surnames_weight=sv,
        total=total,
        score=score,
    )


def matches_of(
    right: Sequence[PersonRecord],
    ib: Sequence[int],
    scores: PairScores,
    floor: float,
    params: weights.Params | None = None,
) -> dict[int, Match]:
    """The :class:`~habeas.people.matching.Match` of each pair scoring ``floor`` or more, by
    pair index: what :func:`habeas.people.matching.score` gives for it, its reasons and
    contributions written once per distinct set of weights."""
    p = params or weights.current()
    w = p.weights
    found: dict[int, Match] = {}
    explained: dict[Any, Any] = {}
    picked = [k for k, value in enumerate(scores.score) if value >= floor]
    if not picked:
        return found
    take = np.asarray(picked, dtype=_I)
    columns = zip(
        picked,
        scores.given[take].tolist(),
        scores.surnames[take].tolist(),
        scores.date_of_birth[take].tolist(),
        scores.nationality[take].tolist(),
        scores.sex[take].tolist(),
        scores.exchanged[take].tolist(),
        scores.alias[take].tolist(),
        scores.same_id[take].tolist(),
        scores.given_weight[take].tolist(),
        scores.surnames_weight[take].tolist(),
        strict=True,
    )
    for k, gl, sl, dl, nat, sex, exchanged, alias, same_id, gv, sv in columns:
        values: list[tuple[str, int, tuple[str, ...] | None, float]] = []
        if gl >= 0:
            values.append(("given", gl, (), gv))
        if sl >= 0:
            values.append(("surnames", sl, (), sv))
        if exchanged:
            values.append(("name order", -1, None, weights.EXCHANGED_WEIGHT))
        for name, lv in (("date_of_birth", dl), ("nationality", nat), ("sex", sex)):
            if lv >= 0:
                values.append((name, lv, None, w[name][lv]))
        if same_id:
            values.append(("identifier", -1, None, weights.IDENTIFIER_WEIGHT))
        key = (nat, sex, alias, same_id, tuple(values))
        parts = explained.get(key)
        if parts is None:
            parts = explained[key] = _explained(nat, sex, alias, same_id, values, p)
        value = scores.score[k]
        found[k] = Match(
            ref=right[ib[k]].ref,
            score=value,
            band=band_for(value),
            reasons=parts[0],
            weight=round(scores.total[k], 6),
            contributions=parts[1],
        )
    return found
