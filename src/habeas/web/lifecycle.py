"""The person page's custody lifecycle panels (STANDARDS.md, Sentences; Mandela Rules 7(b),
68-69): the release date with its working (as HMPPS's calculate-release-dates shows it), which
order held the person on each day of the open episode, the open alarms with their rule and
citation. The notices sent are the person page's own section (``web.views``)."""

from __future__ import annotations

from typing import Any

from habeas.core import alarms
from habeas.custody.amendments import basis_timeline
from habeas.custody.calculations import current_calculation, working_lines
from habeas.custody.models import CustodyEpisode, LegalBasis


def lifecycle_context(
    person: Any, open_episode: CustodyEpisode | None, *, show_private: bool
) -> dict[str, Any]:
    context: dict[str, Any] = {
        "calculation": None,
        "working": [],
        "basis_runs": [],
        "alarms": alarms.for_person(person),
    }
    if open_episode is not None:
        calc = current_calculation(open_episode)
        if calc is not None:
            context["calculation"] = calc
            context["working"] = working_lines(calc)
        refs = {b.pk: b for b in LegalBasis.objects.filter(episodes=open_episode).order_by("pk")}
        context["basis_runs"] = [
            {**run, "orders": [refs[pk] for pk in run["bases"] if pk in refs]}
            for run in basis_timeline(open_episode)
        ]
    return context
