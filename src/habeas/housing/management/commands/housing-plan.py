"""``habeas housing-plan --facility CODE [--apply] [--time-limit S] [--json]``: a placement
plan for the whole facility that keeps every housing rule and minimises crowding above
certified capacity (the worst cell first) and then the number of moves (INTERFACES.md;
:mod:`habeas.housing.planner`). ``--apply`` carries it out as moves through the placement
service, all in one transaction, each on the ledger."""

from __future__ import annotations

import json
from typing import Any

from django.core.management.base import CommandError, CommandParser

from habeas.core.actor import Actor
from habeas.core.clock import now
from habeas.core.commands import HabeasCommand, spinner
from habeas.facilities.models import Facility
from habeas.housing.placements import housing_plan_apply
from habeas.housing.planner import Stuck, order_moves, problem_for, solve


class Command(HabeasCommand):
    help = "Plan (and with --apply carry out) the housing of a whole facility."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--facility", required=True, help="facility code")
        parser.add_argument("--apply", action="store_true", help="carry out the moves")
        parser.add_argument("--time-limit", type=float, default=10.0, help="seconds (10)")
        parser.add_argument("--json", action="store_true", help="print the plan as JSON")

    def handle(self, *args: Any, **options: Any) -> None:
        facility = Facility.objects.filter(code=options["facility"]).first()
        if facility is None:
            raise CommandError(f"no facility {options['facility']}", returncode=2)
        if not 0 < options["time_limit"] <= 3600:  # also refuses nan and inf
            raise CommandError("--time-limit must be between 0 and 3600 seconds", returncode=2)
        with spinner("Planning…"):
            problem = problem_for(facility)
            plan = solve(problem, time_limit=options["time_limit"])
        document = {"facility": facility.code, **plan.document(problem)}
        if plan.status == "infeasible":
            self._print(document, options)
            raise CommandError(
                f"no plan keeps every rule: {len(plan.unplaced)} people fit in no allowed cell",
                returncode=2,
            )
        applied = 0
        if options["apply"] and plan.moves:
            applied = self._apply(facility, problem, plan, document)
        document["applied"] = applied
        self._print(document, options)

    def _apply(self, facility: Facility, problem: Any, plan: Any, document: dict[str, Any]) -> int:
        try:
            ordered = order_moves(problem, plan.moves)
        except Stuck as exc:
            raise CommandError(str(exc), returncode=2) from exc
        return housing_plan_apply(
            actor=Actor.cli(), facility=facility, document=document, moves=ordered, at=now()
        )

    def _print(self, document: dict[str, Any], options: dict[str, Any]) -> None:
        if options["json"]:
            self.stdout.write(json.dumps(document, indent=2, ensure_ascii=False))
            return
        self.stdout.write(
            f"{document['facility']}: plan {document['status']} in {document['seconds']} s"
        )
        header = f"  {'':22} {'above certified':>16} {'worst cell':>11} {'moves':>7}"
        self.stdout.write(header)
        for label, key in (
            ("before", "before"),
            ("first-fit-decreasing", "first_fit_decreasing"),
            ("after", "after"),
            ("lower bound", "lower_bound"),
        ):
            f = document[key]
            self.stdout.write(
                f"  {label:22} {f['above_certified']:>16} {f['worst_excess']:>11} {f['moves']:>7}"
            )
        if document.get("applied"):
            self.stdout.write(f"  applied {document['applied']} moves")
        elif document["moves"]:
            self.stdout.write(f"  {len(document['moves'])} moves (use --apply to carry them out)")
