"""The scale-out drill, small (bench/scale_out.py is the full one): a PostgreSQL primary and a hot
standby of its own, two `pantau serve` nodes behind nginx, clients posting registrations through
nginx while one node is killed with SIGKILL and started again, and the nodes' report schedule making
the quarterly report meanwhile. Every acknowledged submission is stored, once; every client that saw
a failure got its receipt on resending the same instance id; the scheduled report has exactly one
edition, whichever node claimed it (the killed one too: its lease runs out and another node makes
it). SQLite has no standby and no second machine: the PostgreSQL pass runs this."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import ON_POSTGRES
from tests.drill import drill

pytestmark = pytest.mark.skipif(not ON_POSTGRES, reason="a PostgreSQL standby: the PostgreSQL pass runs it")


def test_a_node_killed_under_load_loses_nothing_and_the_report_is_made_once(tmp_path: Path) -> None:
    outcome = drill(tmp_path, nodes=2, clients=8, seconds=10, kill_at=4, victim=1, report_poll=2, report_within=90)
    tally = outcome.tally
    assert tally.refused == {}, tally.refused  # nothing the server should not have said
    assert len(tally.acked) > 20, outcome.line()  # the load ran on both sides of the kill
    assert outcome.restart_s > 0, outcome.line()  # the node was killed and answered again
    assert tally.failed == 0 and tally.recovered == tally.saw_failure, outcome.line()
    assert outcome.lost == 0 and outcome.duplicates == 0, outcome.line()
    assert outcome.stored == len(tally.acked) == outcome.beneficiaries, outcome.line()
    assert outcome.standby_rows == outcome.stored, outcome.line()  # the standby has replayed them all
    assert outcome.report_runs == [("64.02", "ready", "")] and outcome.reports_made == 1, outcome.line()
