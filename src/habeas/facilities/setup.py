"""``habeas apply``: declare jurisdictions, facilities (modules, cells) and agreements.

Declarative and idempotent: what already matches the file is left alone and writes nothing; a
new object is a ``*.declared`` event, a changed value an ``*.amended`` event listing each field
as ``[old, new]``. Objects absent from the file are never deleted (history stays); they are
reported. Certified capacity is computed here from area and standard (STANDARDS.md), never
taken from the file.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from habeas.agreements.models import Agreement, FeeChange, Jurisdiction
from habeas.core.actor import Actor
from habeas.core.canonical import plain
from habeas.core.errors import Conflict, ValidationFailed
from habeas.core.services import service
from habeas.facilities import occupancy
from habeas.facilities.models import Cell, Facility, Module
from habeas.facilities.setup_schema import (
    AgreementDecl,
    CellDecl,
    FacilityDecl,
    FeeChangeDecl,
    ModuleDecl,
    SetupDocument,
)
from habeas.facilities.standards import certified_capacity
from habeas.ledger.services import Event, ledger_append_many

MSG_UNKNOWN_JURISDICTION = "{where}: jurisdiction {code} is not declared"
MSG_UNKNOWN_FACILITY = "agreement {code}: facility {facility} is not declared"
MSG_FEE_CHANGE_EDITED = (
    "agreement {code}: fees.changes from {day} is already recorded with other values; a fee "
    "change is never edited (STANDARDS.md, Billing): add a change from a later day"
)
MSG_BELOW_OCCUPANCY = "cell {cell}: working capacity {new} is below the {n} people it holds now"
MSG_OCCUPIED_MODULE = (
    "module {module}: population and regime cannot change while it holds {n} people "
    "(Mandela Rule 11: move them first)"
)
MSG_OCCUPIED_CELL_MODULE = (
    "cell {cell}: cannot move to module {module} of another population or regime while it "
    "holds {n} people (Mandela Rule 11: move them first)"
)


@dataclass
class ApplyReport:
    created: list[str] = field(default_factory=list)
    amended: list[str] = field(default_factory=list)
    unchanged: int = 0
    not_in_file: list[str] = field(default_factory=list)
    events: list[Event] = field(default_factory=list)

    @property
    def changed(self) -> bool:
        return bool(self.created or self.amended)


def _diff(obj: Any, wanted: dict[str, Any]) -> dict[str, list[Any]]:
    changes: dict[str, list[Any]] = {}
    for name, new in wanted.items():
        old = getattr(obj, name)
        if isinstance(old, Decimal) and new is not None:
            same = old == Decimal(str(new))
        else:
            same = old == new
        if not same:
            changes[name] = [plain(old), plain(new)]
    return changes


CELL_FIELDS = (
    "floor_area_m2",
    "sanitary_area_m2",
    "height_m",
    "bunks",
    "window",
    "max_capacity",
    "working_capacity",
    "certified_capacity",
)


def _cell_fields(decl: CellDecl, standard: str) -> dict[str, Any]:
    return {
        "floor_area_m2": decl.floor_area_m2,
        "sanitary_area_m2": decl.sanitary_area_m2,
        "height_m": decl.height_m,
        "bunks": decl.bunks,
        "window": decl.window,
        "max_capacity": decl.max_capacity,
        "working_capacity": decl.working_capacity,
        "certified_capacity": certified_capacity(
            decl.floor_area_m2, decl.sanitary_area_m2, standard
        ),
    }


class _Applier:
    def __init__(self, doc: SetupDocument) -> None:
        self.doc = doc
        self.report = ApplyReport()

    def record(self, action: str, subject: str, payload: dict[str, Any], *, created: bool) -> None:
        (self.report.created if created else self.report.amended).append(subject)
        self.report.events.append(Event(action=action, subject=subject, payload=payload))

    def upsert(
        self,
        model: Any,
        lookup: dict[str, Any],
        fields: dict[str, Any],
        *,
        app: str,
        noun: str,
        subject: str,
    ) -> Any:
        obj = model.objects.filter(**lookup).first()
        if obj is None:
            obj = model(**lookup, **fields)
            obj.save()
            snapshot = {"id": obj.pk, **lookup, **fields}
            self.record(f"{app}.{noun}_declared", subject, {noun: snapshot}, created=True)
            return obj
        changes = _diff(obj, fields)
        if changes:
            for name, value in fields.items():
                setattr(obj, name, value)
            obj.save()
            self.record(
                f"{app}.{noun}_amended", subject, {"id": obj.pk, "changes": changes}, created=False
            )
        else:
            self.report.unchanged += 1
        return obj

    def jurisdiction(self, code: str, where: str) -> Jurisdiction:
        obj = Jurisdiction.objects.filter(code=code).first()
        if obj is None:
            raise ValidationFailed(MSG_UNKNOWN_JURISDICTION.format(where=where, code=code))
        return obj

    def apply(self) -> ApplyReport:
        for j in self.doc.jurisdiction:
            self.upsert(
                Jurisdiction,
                {"code": j.code},
                {"name": j.name},
                app="agreements",
                noun="jurisdiction",
                subject=f"jurisdiction:{j.code}",
            )
        for f in self.doc.facility:
            self.facility(f)
        for a in self.doc.agreement:
            self.agreement(a)
        declared = {f.code for f in self.doc.facility}
        self.report.not_in_file = (
            [
                f"facility:{c}"
                for c in Facility.objects.exclude(code__in=declared).values_list("code", flat=True)
            ]
            if self.doc.facility
            else []
        )
        return self.report

    def facility(self, decl: FacilityDecl) -> None:
        jurisdiction = self.jurisdiction(decl.jurisdiction, f"facility {decl.code}")
        visiting, visiting_translations = decl.visiting_texts()
        facility = self.upsert(
            Facility,
            {"code": decl.code},
            {
                "name": decl.name,
                "jurisdiction_id": jurisdiction.pk,
                "timezone": decl.timezone,
                "space_standard": decl.space_standard,
                "declared_capacity": decl.declared_capacity,
                "address": decl.address,
                "phone": decl.phone,
                "visiting": visiting,
                "visiting_translations": visiting_translations,
                "visiting_slots": decl.visiting_slots_stored(),
                "heat_limit_c": decl.heat_limit_c,
                "heat_sustain_minutes": decl.heat_sustain_minutes,
            },
            app="facilities",
            noun="facility",
            subject=f"facility:{decl.code}",
        )
        for m in decl.module:
            self.module(facility, m, decl.space_standard)

    def module(self, facility: Facility, decl: ModuleDecl, standard: str) -> None:
        # Relabelling an occupied module would break separation without anyone being moved.
        relabelled = Cell.objects.filter(
            module__in=Module.objects.filter(facility=facility, code=decl.code).exclude(
                population=decl.population, regime=decl.regime
            )
        ).values_list("pk", flat=True)
        held = sum(occupancy.occupants(relabelled).values())
        if held:
            raise Conflict(MSG_OCCUPIED_MODULE.format(module=decl.code, n=held))
        module = self.upsert(
            Module,
            {"facility_id": facility.pk, "code": decl.code},
            {"population": decl.population, "regime": decl.regime},
            app="facilities",
            noun="module",
            subject=f"module:{facility.code}/{decl.code}",
        )
        cells = decl.all_cells()
        existing = {
            c.code: c
            for c in Cell.objects.filter(
                facility=facility, code__in=[c.code for c in cells]
            ).select_related("module")
        }
        held_in = occupancy.occupants(c.pk for c in existing.values())
        new_cells: list[tuple[CellDecl, Cell]] = []
        for c in cells:
            wanted = {"module_id": module.pk, **_cell_fields(c, standard)}
            cell = existing.get(c.code)
            if cell is None:
                new_cells.append((c, Cell(facility=facility, code=c.code, **wanted)))
                continue
            changes = _diff(cell, wanted)
            if not changes:
                self.report.unchanged += 1
                continue
            occupants = held_in.get(cell.pk, 0)
            if occupants and (cell.module.population, cell.module.regime) != (
                decl.population,
                decl.regime,
            ):
                raise Conflict(
                    MSG_OCCUPIED_CELL_MODULE.format(cell=c.code, module=decl.code, n=occupants)
                )
            if c.working_capacity < occupants:
                raise Conflict(
                    MSG_BELOW_OCCUPANCY.format(cell=c.code, new=c.working_capacity, n=occupants)
                )
            for name, value in wanted.items():
                setattr(cell, name, value)
            cell.save()
            self.record(
                "facilities.cell_amended",
                f"cell:{facility.code}/{c.code}",
                {"id": cell.pk, "changes": changes},
                created=False,
            )
        if new_cells:
            created = Cell.objects.bulk_create([new for _, new in new_cells], batch_size=500)
            for made in created:
                snapshot = {
                    "id": made.pk,
                    "facility": facility.code,
                    "facility_id": facility.pk,
                    "module": decl.code,
                    "module_id": module.pk,
                    "active": made.active,
                    "code": made.code,
                    **{k: getattr(made, k) for k in CELL_FIELDS},
                }
                self.record(
                    "facilities.cell_declared",
                    f"cell:{facility.code}/{made.code}",
                    {"cell": snapshot},
                    created=True,
                )

    def agreement(self, decl: AgreementDecl) -> None:
        sending = self.jurisdiction(decl.sending, f"agreement {decl.code}")
        receiving = self.jurisdiction(decl.receiving, f"agreement {decl.code}")
        facilities = list(Facility.objects.filter(code__in=decl.facilities).order_by("code"))
        missing = sorted(set(decl.facilities) - {f.code for f in facilities})
        if missing:
            raise ValidationFailed(
                MSG_UNKNOWN_FACILITY.format(code=decl.code, facility=", ".join(missing))
            )
        agreement = self.upsert(
            Agreement,
            {"code": decl.code},
            {
                "sending_id": sending.pk,
                "receiving_id": receiving.pk,
                "policy": decl.policy,
                "policy_options": dict(decl.policy_options),
                "max_persons": decl.max_persons,
                "starts": decl.starts,
                "ends": decl.ends,
                "currency": decl.currency,
                "per_person_day": decl.fees.per_person_day,
                "day_count": decl.fees.day_count,
                "retention_days": decl.retention_days,
                "sentence_rules": decl.sentence_rules,
                "monthly_fee": decl.fees.monthly_fee,
                "tiers": _tiers(decl.fees.tiers),
            },
            app="agreements",
            noun="agreement",
            subject=f"agreement:{decl.code}",
        )
        self.fee_changes(agreement, decl)
        current = sorted(agreement.facilities.values_list("code", flat=True))
        wanted = sorted(decl.facilities)
        if current != wanted:
            agreement.facilities.set(facilities)
            subject = f"agreement:{decl.code}"
            if subject not in self.report.created:
                self.report.amended.append(subject)
            self.report.events.append(
                Event(
                    action="agreements.agreement_facilities_set",
                    subject=subject,
                    payload={"id": agreement.pk, "facilities": [current, wanted]},
                )
            )

    def fee_changes(self, agreement: Agreement, decl: AgreementDecl) -> None:
        """Each dated fee change once, as it was first recorded (STANDARDS.md, Billing: issued
        invoices rest on the schedule as it stood)."""
        recorded = {c.effective_from: c for c in FeeChange.objects.filter(agreement=agreement)}
        for change in decl.fees.changes:
            wanted = _fee_change_fields(change)
            found = recorded.get(change.from_)
            if found is not None:
                if _diff(found, wanted):
                    raise ValidationFailed(
                        MSG_FEE_CHANGE_EDITED.format(code=decl.code, day=change.from_)
                    )
                self.report.unchanged += 1
                continue
            made = FeeChange(agreement=agreement, effective_from=change.from_, **wanted)
            made.full_clean()
            made.save()
            self.record(
                "agreements.fee_change_recorded",
                f"agreement:{decl.code}",
                {
                    "fee_change": {
                        "id": made.pk,
                        "agreement_id": agreement.pk,
                        "effective_from": made.effective_from,
                        **{k: plain(v) if k != "tiers" else v for k, v in wanted.items()},
                    }
                },
                created=False,
            )


def _tiers(tiers: Any) -> list[dict[str, Any]]:
    return [{"above": t.above, "per_person_day": str(t.per_person_day)} for t in tiers]


def _fee_change_fields(change: FeeChangeDecl) -> dict[str, Any]:
    return {
        "per_person_day": change.per_person_day,
        "monthly_fee": change.monthly_fee,
        "tiers": None if change.tiers is None else _tiers(change.tiers),
    }


@service
def setup_apply(*, actor: Actor, document: SetupDocument) -> ApplyReport:
    """Apply a validated setup document; all or nothing, one ledger entry per change."""
    report = _Applier(document).apply()
    ledger_append_many(actor=actor, events=report.events)
    return report
