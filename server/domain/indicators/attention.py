"""The people who need attention in a period (overdue follow-ups, worrying latest answers): a list for
the report and the dashboard, not an indicator table."""

from __future__ import annotations

from collections import defaultdict

from server.domain.indicators.facts import Facts


def attention(facts: Facts, spec_values: dict[str, list[str]]) -> list[tuple[str, str]]:
    """People who need attention in the period, most urgent first, at most `limit`: (beneficiary id,
    reason). Overdue follow-ups (longest first), then latest visits whose figure is one of the listed
    answers (equipment sold, pawned or lost; business stopped). The caller shows the first few."""
    reasons: dict[str, list[str]] = defaultdict(list)
    # Ties broken by id: the rows arrive in whatever order the database returns them, and the same
    # data must list the same people in the same order (reproducible editions).
    for pid, _area, days, _actions in sorted(facts.overdue, key=lambda o: (-o[2], o[0])):
        reasons[pid].append(f"tindak lanjut terlambat {days} hari")
    for pid, visit in sorted(facts.latest.items()):
        for figure, values in spec_values.items():
            if visit.figures.get(figure) in values:
                reasons[pid].append(f"{figure.replace('_', ' ')}: {str(visit.figures[figure]).replace('_', ' ')}")
    return [(pid, "; ".join(found)) for pid, found in reasons.items()]
