"""The eligibility engine (STANDARDS.md "Transfer eligibility"; ISSUE 3).

A rule is data — an identifier, a citation, an evaluator name and parameters — and the
evaluators are small functions returning ``pass``, ``fail`` or ``review`` with a message in
English and Spanish. An agreement selects a preset by its ``policy`` and may, in its
``policy_options``, switch on options (``require_conviction``), add rules from the library
(``add_rules: ["T5"]``), tighten parameters (``rule_params: {"T4": {"min_months": 12}}``) or
list the offences its parties both punish (``dual_criminality_offences``). The always-on
rules (``U*``) cannot be removed.

The decision: ``ineligible`` if any rule fails, else ``needs_review`` if any asks for review,
else ``eligible``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any, NamedTuple

from habeas.custody.sentences import add_months, sentence_end
from habeas.transfers.manifest import CITATIONS, ParsedRow

PASS, REVIEW, FAIL = "pass", "review", "fail"


@dataclass(frozen=True, eq=False)
class Msg:
    """A message template in English and Spanish (``str.format`` fields). Compared and hashed
    by identity: the templates are module constants, so a rule outcome's text is built once
    per (rule, outcome, template, parameters) and reused (:func:`evaluate`)."""

    en: str
    es: str

    def format(self, **kw: Any) -> Msg:
        return Msg(self.en.format(**kw), self.es.format(**kw))

    def render(self, params: tuple[tuple[str, Any], ...]) -> tuple[str, str]:
        if not params:
            return self.en, self.es
        kw = dict(params)
        return self.en.format(**kw), self.es.format(**kw)


class Verdict(NamedTuple):
    """What an evaluator decides: the outcome, the message template and its parameters (the
    text itself is rendered lazily, once per distinct verdict)."""

    outcome: str
    message: Msg
    params: tuple[tuple[str, Any], ...] = ()

    @property
    def text(self) -> tuple[str, str]:
        return self.message.render(self.params)


def verdict(outcome: str, message: Msg, **params: Any) -> Verdict:
    return Verdict(outcome, message, tuple(params.items()))


@dataclass(frozen=True)
class RuleResult:
    rule: str
    outcome: str
    message: str
    message_es: str
    source: str

    def document(self) -> dict[str, str]:
        return {
            "rule": self.rule,
            "outcome": self.outcome,
            "message": self.message,
            "message_es": self.message_es,
            "source": self.source,
        }


@dataclass
class MatchInfo:
    """The identity match of an entry against the registry."""

    band: str = "different"  # same | possible | different
    person: int | None = None
    score: float | None = None
    in_custody: bool = False
    episode: int | None = None


@dataclass
class Quota:
    """Places under the agreement: held now + accepted and not yet admitted, and those this
    manifest has already claimed for entries decided before this one."""

    maximum: int | None
    used: int
    claimed: int = 0


@dataclass
class Context:
    row: ParsedRow
    on: dt.date
    sending: str
    receiving: str
    agreement_starts: dt.date
    agreement_ends: dt.date | None
    populations: frozenset[str]
    match: MatchInfo
    quota: Quota
    options: Mapping[str, Any]
    prior: list[RuleResult] = field(default_factory=list)


Evaluator = Callable[[Context, Mapping[str, Any]], Verdict]


@dataclass(frozen=True)
class Rule:
    id: str
    source: str
    evaluator: str
    params: Mapping[str, Any] = field(default_factory=dict)


# --- helpers ------------------------------------------------------------------------------


@lru_cache(maxsize=65536)
def under_18(dob: dt.date, precision: str, on: dt.date) -> bool:
    """Under 18 on ``on``. With a partial date the *latest* possible birthday counts, so who
    may be a child is treated as one (CRC art. 1; same rule as custody.services.is_youth)."""
    if precision == "year":
        dob = dt.date(dob.year, 12, 31)
    elif precision == "month":
        dob = add_months(dt.date(dob.year, dob.month, 1), 1) - dt.timedelta(days=1)
    try:
        adult_on = dob.replace(year=dob.year + 18)
    except ValueError:  # 29 February
        adult_on = dt.date(dob.year + 18, 3, 1)
    return on < adult_on


def sentence_ends(row: ParsedRow) -> dt.date | None:
    """End of the sentence (None for life): start + length − custody credit."""
    assert row.sentence_start is not None
    return _sentence_end(row.sentence_start, row.sentence, row.custody_credit_days)


@lru_cache(maxsize=65536)
def _sentence_end(start: dt.date, sentence: str, credit_days: int) -> dt.date | None:
    return sentence_end(start, sentence, credit_days)


# --- evaluators ---------------------------------------------------------------------------
# Each returns a :class:`Verdict` naming one of the message templates below and its
# parameters; the text is rendered once per distinct verdict (:func:`evaluate`).

M_BASIS = Msg("commitment order given: {k}", "orden de internamiento presentada: {k}")
M_CITIZEN_REMOVAL = Msg(
    "a removal order for a citizen of the sending state is void: it gives no basis to hold",
    "una orden de expulsión contra un ciudadano del Estado remitente es nula: no da base para "
    "la detención",
)
M_NO_CITIZEN_REMOVAL = Msg(
    "no removal order against a citizen", "ninguna orden de expulsión contra un ciudadano"
)
M_PROTECTED = Msg(
    "a court order protects this person from removal to the receiving state",
    "una orden judicial protege a esta persona de ser trasladada al Estado receptor",
)
M_NOT_PROTECTED = Msg("no protection order", "sin orden de protección")
M_NO_SENTENCE_TO_COMPUTE = Msg("no criminal sentence to compute", "sin condena que computar")
M_SERVED_REMOVAL_REMAINS = Msg(
    "the sentence ended on {end}; only the removal order remains a basis",
    "la condena terminó el {end}; solo la orden de expulsión sigue siendo base",
)
M_SERVED = Msg(
    "the sentence was served on {end} (start, length and custody credit): no basis to hold",
    "la condena se cumplió el {end} (inicio, duración y abono de prisión preventiva): no hay "
    "base para la detención",
)
M_ENDS = Msg("sentence ends {end}", "la condena termina {end}")
M_CHILD = Msg(
    "under 18 on arrival ({on}), or may be: children are not transferred here",
    "menor de 18 años a la llegada ({on}), o podría serlo: no se trasladan niños",
)
M_ADULT = Msg("18 or over on {on}", "mayor de edad el {on}")
M_NO_MODULE = Msg(
    "no module of the agreement's facilities houses this sex and age group ({w})",
    "ningún módulo de los centros del acuerdo aloja este sexo y grupo de edad ({w})",
)
M_MODULE = Msg("a module for {w} exists", "existe un módulo para {w}")
M_IN_CUSTODY = Msg(
    "already in custody in the registry (person {person}, episode {episode})",
    "ya está detenido según el registro (persona {person}, episodio {episode})",
)
M_NOT_IN_CUSTODY = Msg("not in custody in the registry", "no consta detenido en el registro")
M_POSSIBLE = Msg(
    "possibly the same person as registry id {person} (score {score:.2f}): check",
    "posiblemente la misma persona que el registro {person} (puntuación {score:.2f}): verificar",
)
M_SAME = Msg(
    "the same person as registry id {person} (score {score:.2f})",
    "la misma persona que el registro {person} (puntuación {score:.2f})",
)
M_NEW = Msg("not in the registry yet", "aún no consta en el registro")
M_NOT_IN_FORCE = Msg("the agreement is not in force on {on}", "el acuerdo no está en vigor el {on}")
M_IN_FORCE = Msg("the agreement is in force on {on}", "el acuerdo está en vigor el {on}")
M_NATIONAL = Msg("a national of {cc}", "nacional de {cc}")
M_NOT_NATIONAL = Msg(
    "not a national of the administering state {cc}",
    "no es nacional del Estado de cumplimiento {cc}",
)
M_NO_SENTENCE = Msg("no criminal sentence", "no hay condena penal")
M_FINAL = Msg("the judgment is final", "la sentencia es firme")
M_NOT_FINAL = Msg("the judgment is not final", "la sentencia no es firme")
M_LIFE = Msg("life sentence", "cadena perpetua")
M_REMAINING = Msg(
    "ends {end}: at least {m} months remain", "termina el {end}: quedan al menos {m} meses"
)
M_TOO_SHORT = Msg(
    "ends {end}: less than {m} months remain (needed until {needed})",
    "termina el {end}: quedan menos de {m} meses (hacía falta hasta el {needed})",
)
M_CONSENT = Msg("the person consents", "la persona consiente")
M_NO_CONSENT = Msg("the person does not consent", "la persona no consiente")
M_CONSENT_UNKNOWN = Msg(
    "consent unknown: it must be given and verified",
    "consentimiento desconocido: debe darse y verificarse",
)
M_LISTED_OFFENCE = Msg(
    "the offence is on the agreement's list", "el delito figura en la lista del acuerdo"
)
M_DUAL_CRIMINALITY = Msg(
    "dual criminality of {o!r} must be checked",
    "debe comprobarse la doble incriminación de {o!r}",
)
M_NO_QUOTA = Msg("the agreement sets no quota", "el acuerdo no fija cupo")
M_NOT_COUNTED = Msg("not counted against the quota", "no se cuenta en el cupo")
M_QUOTA_FULL = Msg(
    "the quota of {m} is already used ({u} held or accepted)",
    "el cupo de {m} ya está completo ({u} detenidos o aceptados)",
)
M_QUOTA_OVER = Msg(
    "place {n} of a quota of {m}: accepting every entry before it would exceed it",
    "plaza {n} de un cupo de {m}: aceptar todas las anteriores lo superaría",
)
M_QUOTA_PLACE = Msg("place {n} of a quota of {m}", "plaza {n} de un cupo de {m}")
M_CONVICTION_NOT_REQUIRED = Msg("a conviction is not required", "no se exige condena")
M_NO_CONVICTION = Msg(
    "no criminal conviction: the receiving state takes only convicted criminals",
    "sin condena penal: el Estado receptor solo acepta personas condenadas",
)
M_CONVICTION_NOT_FINAL = Msg("the conviction is not final", "la condena no es firme")
M_CONVICTED = Msg("convicted by a final judgment", "condenado por sentencia firme")
M_NATIONAL_SENTENCE = Msg(
    "a {s} of the sending state serving a sentence, without consent: the sending state's law "
    "must provide a basis for serving it abroad",
    "{s_es} del Estado remitente que cumple condena, sin consentimiento: la ley del Estado "
    "remitente debe prever su cumplimiento en el extranjero",
)
M_NO_NATIONAL_SENTENCE = Msg(
    "no citizen or resident held on a sentence without consent",
    "ningún ciudadano o residente condenado sin consentimiento",
)
_STATUS_ES = {"citizen": "ciudadano", "permanent_resident": "residente permanente"}


def ev_legal_basis(ctx: Context, p: Mapping[str, Any]) -> Verdict:
    return _basis(ctx.row.legal_basis)


@lru_cache(maxsize=64)
def _basis(kinds: tuple[str, ...]) -> Verdict:
    return verdict(PASS, M_BASIS, k=", ".join(kinds))


def ev_citizen_removal(ctx: Context, p: Mapping[str, Any]) -> Verdict:
    if ctx.row.has_removal_order and ctx.row.status_in_sending_state == "citizen":
        return Verdict(FAIL, M_CITIZEN_REMOVAL)
    return Verdict(PASS, M_NO_CITIZEN_REMOVAL)


def ev_removal_protection(ctx: Context, p: Mapping[str, Any]) -> Verdict:
    if ctx.row.removal_protection:
        return Verdict(FAIL, M_PROTECTED)
    return Verdict(PASS, M_NOT_PROTECTED)


def ev_sentence_served(ctx: Context, p: Mapping[str, Any]) -> Verdict:
    row = ctx.row
    if not row.has_sentence:
        return Verdict(PASS, M_NO_SENTENCE_TO_COMPUTE)
    return _served(sentence_ends(row), ctx.on, row.has_removal_order)


@lru_cache(maxsize=65536)
def _served(end: dt.date | None, on: dt.date, removal_order: bool) -> Verdict:
    if end is not None and end <= on:
        if removal_order:
            return verdict(PASS, M_SERVED_REMOVAL_REMAINS, end=end.isoformat())
        return verdict(FAIL, M_SERVED, end=end.isoformat())
    return verdict(PASS, M_ENDS, end=end.isoformat() if end else "life")


def ev_adult(ctx: Context, p: Mapping[str, Any]) -> Verdict:
    dob, precision = ctx.row.date_of_birth
    return _adult(under_18(dob, precision, ctx.on), ctx.on)


@lru_cache(maxsize=256)
def _adult(child: bool, on: dt.date) -> Verdict:
    if child:
        return verdict(FAIL, M_CHILD, on=on.isoformat())
    return verdict(PASS, M_ADULT, on=on.isoformat())


def ev_housing(ctx: Context, p: Mapping[str, Any]) -> Verdict:
    dob, precision = ctx.row.date_of_birth
    return _housing(under_18(dob, precision, ctx.on), ctx.row.sex, ctx.populations)


@lru_cache(maxsize=1024)
def _housing(youth: bool, sex: str, populations: frozenset[str]) -> Verdict:
    age = "youth" if youth else "adult"
    sexes = {"M": ["male"], "F": ["female"]}.get(sex, ["male", "female"])
    wanted = [f"{age}_{s}" for s in sexes]
    if not any(w in populations for w in wanted):
        return verdict(FAIL, M_NO_MODULE, w=" / ".join(wanted))
    return verdict(PASS, M_MODULE, w=" / ".join(wanted))


def ev_open_custody(ctx: Context, p: Mapping[str, Any]) -> Verdict:
    if ctx.match.in_custody:
        return verdict(REVIEW, M_IN_CUSTODY, person=ctx.match.person, episode=ctx.match.episode)
    return Verdict(PASS, M_NOT_IN_CUSTODY)


def ev_identity(ctx: Context, p: Mapping[str, Any]) -> Verdict:
    m = ctx.match
    if m.band == "possible":
        return verdict(REVIEW, M_POSSIBLE, person=m.person, score=m.score or 0.0)
    if m.band == "same":
        return verdict(PASS, M_SAME, person=m.person, score=m.score or 0.0)
    return Verdict(PASS, M_NEW)


def ev_in_force(ctx: Context, p: Mapping[str, Any]) -> Verdict:
    return _in_force(ctx.on, ctx.agreement_starts, ctx.agreement_ends)


@lru_cache(maxsize=256)
def _in_force(on: dt.date, starts: dt.date, ends: dt.date | None) -> Verdict:
    if on < starts or (ends and on > ends):
        return verdict(FAIL, M_NOT_IN_FORCE, on=on.isoformat())
    return verdict(PASS, M_IN_FORCE, on=on.isoformat())


def ev_national(ctx: Context, p: Mapping[str, Any]) -> Verdict:
    if ctx.receiving in ctx.row.nationalities:
        return verdict(PASS, M_NATIONAL, cc=ctx.receiving)
    return verdict(FAIL, M_NOT_NATIONAL, cc=ctx.receiving)


def ev_final(ctx: Context, p: Mapping[str, Any]) -> Verdict:
    if not ctx.row.has_sentence:
        return Verdict(FAIL, M_NO_SENTENCE)
    if ctx.row.judgment_final:
        return Verdict(PASS, M_FINAL)
    return Verdict(FAIL, M_NOT_FINAL)


def ev_remaining(ctx: Context, p: Mapping[str, Any]) -> Verdict:
    months = int(p.get("min_months", 6))
    if not ctx.row.has_sentence:
        return Verdict(FAIL, M_NO_SENTENCE)
    end = sentence_ends(ctx.row)
    if end is None:
        return Verdict(PASS, M_LIFE)
    return _remaining(end, ctx.on, months)


@lru_cache(maxsize=65536)
def _remaining(end: dt.date, on: dt.date, months: int) -> Verdict:
    needed = add_months(on, months)
    if end >= needed:
        return verdict(PASS, M_REMAINING, end=end.isoformat(), m=months)
    return verdict(FAIL, M_TOO_SHORT, end=end.isoformat(), m=months, needed=needed.isoformat())


def ev_consent(ctx: Context, p: Mapping[str, Any]) -> Verdict:
    consent = ctx.row.consent
    if consent == "yes":
        return Verdict(PASS, M_CONSENT)
    if consent == "no":
        return Verdict(FAIL, M_NO_CONSENT)
    return Verdict(REVIEW, M_CONSENT_UNKNOWN)


def ev_dual_criminality(ctx: Context, p: Mapping[str, Any]) -> Verdict:
    listed = [str(o).casefold() for o in ctx.options.get("dual_criminality_offences", [])]
    offence = ctx.row.offence.casefold()
    if offence and any(o and o in offence for o in listed):
        return Verdict(PASS, M_LISTED_OFFENCE)
    return verdict(REVIEW, M_DUAL_CRIMINALITY, o=ctx.row.offence)


def ev_quota(ctx: Context, p: Mapping[str, Any]) -> Verdict:
    q = ctx.quota
    if q.maximum is None:
        return Verdict(PASS, M_NO_QUOTA)
    if any(r.outcome == FAIL for r in ctx.prior):
        return Verdict(PASS, M_NOT_COUNTED)
    place = q.used + q.claimed + 1
    if q.used >= q.maximum:
        return verdict(FAIL, M_QUOTA_FULL, m=q.maximum, u=q.used)
    q.claimed += 1
    if place > q.maximum:
        return verdict(REVIEW, M_QUOTA_OVER, n=place, m=q.maximum)
    return verdict(PASS, M_QUOTA_PLACE, n=place, m=q.maximum)


def ev_conviction(ctx: Context, p: Mapping[str, Any]) -> Verdict:
    if not ctx.options.get("require_conviction"):
        return Verdict(PASS, M_CONVICTION_NOT_REQUIRED)
    if not ctx.row.has_sentence:
        return Verdict(FAIL, M_NO_CONVICTION)
    if ctx.row.judgment_final is not True:
        return Verdict(REVIEW, M_CONVICTION_NOT_FINAL)
    return Verdict(PASS, M_CONVICTED)


def ev_sending_national_sentence(ctx: Context, p: Mapping[str, Any]) -> Verdict:
    row = ctx.row
    if (
        row.has_sentence
        and row.status_in_sending_state in {"citizen", "permanent_resident"}
        and row.consent != "yes"
    ):
        return verdict(
            REVIEW,
            M_NATIONAL_SENTENCE,
            s=row.status_in_sending_state.replace("_", " "),
            s_es=_STATUS_ES[row.status_in_sending_state],
        )
    return Verdict(PASS, M_NO_NATIONAL_SENTENCE)


EVALUATORS: dict[str, Evaluator] = {
    "legal_basis": ev_legal_basis,
    "citizen_removal": ev_citizen_removal,
    "removal_protection": ev_removal_protection,
    "sentence_served": ev_sentence_served,
    "adult": ev_adult,
    "housing": ev_housing,
    "open_custody": ev_open_custody,
    "identity": ev_identity,
    "in_force": ev_in_force,
    "national": ev_national,
    "final": ev_final,
    "remaining": ev_remaining,
    "consent": ev_consent,
    "dual_criminality": ev_dual_criminality,
    "quota": ev_quota,
    "conviction": ev_conviction,
    "sending_national_sentence": ev_sending_national_sentence,
}

#: The rule library: identifier → citation, evaluator, default parameters.
LIBRARY: dict[str, Rule] = {
    r.id: r
    for r in [
        Rule("U1", "Mandela Rule 7(1): a valid commitment order", "legal_basis"),
        Rule(
            "U2",
            "ICCPR art. 12(4): no one may be deprived of the right to enter their own country",
            "citizen_removal",
        ),
        Rule("U3", "CAT art. 3; court order protecting from removal", "removal_protection"),
        Rule("U4", "18 U.S.C. § 3585(b); Mandela Rule 7(1)", "sentence_served"),
        Rule("U5", "CRC arts. 1, 37(c); Mandela Rule 11(d)", "adult"),
        Rule("U6", "Mandela Rule 11(a), (d): separation of categories", "housing"),
        Rule("U7", "Mandela Rule 7(a): one identity, one custody", "open_custody"),
        Rule("U8", "Mandela Rule 7(a): unique identity", "identity"),
        Rule("T1", "ETS 112 art. 2; 18 U.S.C. § 4100(a)", "in_force"),
        Rule("T2", "ETS 112 art. 3(1)(a)", "national"),
        Rule("T3", "ETS 112 art. 3(1)(b)", "final"),
        Rule("T4", "ETS 112 art. 3(1)(c)", "remaining", {"min_months": 6}),
        Rule("T5", "ETS 112 art. 3(1)(d); 18 U.S.C. §§ 4107-4108", "consent"),
        Rule("T6", "ETS 112 art. 3(1)(e)", "dual_criminality"),
        Rule("T7", "ETS 112 art. 3(1)(f); agreement quota", "quota"),
        Rule("O1", "Outsourcing agreement (2025 offer): one-year term", "in_force"),
        Rule("O2", "Outsourcing agreement (2025 offer): 'only convicted criminals'", "conviction"),
        Rule(
            "O3",
            "Outsourcing agreement (2025 offer): citizens and residents serving sentences",
            "sending_national_sentence",
        ),
        Rule("O4", "Outsourcing agreement (2025 offer): intake capped at 300", "quota"),
    ]
}

ALWAYS = ("U1", "U2", "U3", "U4", "U5", "U6", "U7", "U8")
PRESETS: dict[str, tuple[str, ...]] = {
    "treaty_transfer": ("T1", "T2", "T3", "T4", "T5", "T6", "T7"),
    "outsourcing_2025": ("O1", "O2", "O3", "O4"),
}


def rules_for(policy: str, options: Mapping[str, Any]) -> list[Rule]:
    """The rules an agreement applies: always-on, its preset, any it adds, with its
    tightened parameters. Quota rules run last (they count only entries not failing)."""
    ids = list(ALWAYS) + list(PRESETS.get(policy, ()))
    for extra in options.get("add_rules", []) or []:
        if extra not in LIBRARY:
            raise ValueError(f"unknown rule {extra!r} in policy_options.add_rules")
        if extra not in ids:
            ids.append(extra)
    params = options.get("rule_params", {}) or {}
    chosen = []
    for rid in ids:
        base = LIBRARY[rid]
        merged = {**base.params, **params.get(rid, {})}
        chosen.append(Rule(base.id, base.source, base.evaluator, merged))
    chosen.sort(key=lambda r: r.evaluator == "quota")
    return chosen


def invalid_results(problems: Sequence[tuple[str, str]]) -> list[RuleResult]:
    """``valid:<column>`` failures (MANIFEST.md: a row with an invalid value)."""
    out = []
    seen: set[tuple[str, str]] = set()
    for column, message in problems:
        if (column, message) in seen:
            continue
        seen.add((column, message))
        out.append(
            RuleResult(
                rule=f"valid:{column}",
                outcome=FAIL,
                message=f"{column}: {message}",
                message_es=f"{column}: valor no válido ({message})",
                source=CITATIONS.get(column, "MANIFEST.md v1"),
            )
        )
    return out


#: Rendered outcomes by (rule, citation, verdict): most rows of a manifest share them, so the
#: bilingual text of each is built once (bounded: cleared when full).
_RESULTS: dict[tuple[str, str, Verdict], RuleResult] = {}
_RESULTS_MAX = 100_000


def evaluate(rules: Sequence[Rule], ctx: Context) -> list[RuleResult]:
    """Every rule's outcome for one entry, in order (each evaluator sees the outcomes before
    it in ``ctx.prior``)."""
    return evaluate_plan(plan(rules), ctx)


Plan = list[tuple[Evaluator, Mapping[str, Any], str, str]]


def plan(rules: Sequence[Rule]) -> Plan:
    """The rules ready to run: evaluator function, parameters, identifier, citation (looked
    up once per manifest, not once per entry)."""
    return [(EVALUATORS[r.evaluator], r.params, r.id, r.source) for r in rules]


def evaluate_plan(steps: Plan, ctx: Context) -> list[RuleResult]:
    """:func:`evaluate` with the rules already looked up (:func:`plan`)."""
    results: list[RuleResult] = []
    ctx.prior = results
    cache = _RESULTS
    append = results.append
    for fn, params, rule_id, source in steps:
        found = fn(ctx, params)
        key = (rule_id, source, found)
        result = cache.get(key)
        if result is None:
            en, es = found.text
            result = RuleResult(rule_id, found.outcome, en, es, source)
            if len(cache) >= _RESULTS_MAX:
                cache.clear()
            cache[key] = result
        append(result)
    return results


def decide(results: Sequence[RuleResult]) -> str:
    """``ineligible`` if any fail, else ``needs_review`` if any review, else ``eligible``."""
    outcomes = {r.outcome for r in results}
    if FAIL in outcomes:
        return "ineligible"
    if REVIEW in outcomes:
        return "needs_review"
    return "eligible"


def clear_caches() -> None:
    """Forget the rendered outcomes and memoised dates (benchmarks measure a cold process)."""
    _RESULTS.clear()
    for cached in (
        under_18,
        _sentence_end,
        _housing,
        _basis,
        _served,
        _adult,
        _in_force,
        _remaining,
    ):
        cached.cache_clear()
