"""The scale-out drill, small (bench/scale_out.py is the full one): a PostgreSQL primary and a hot
standby of its own, two `pantau serve` nodes behind nginx, clients posting registrations through
nginx while the node making the quarterly report (the nodes' schedule queues it) is killed with
SIGKILL and started again, and later nginx itself is killed for a second. Every acknowledged
submission is stored, once; every client that saw a failure got its receipt on resending the same
instance id; the scheduled report has exactly one edition, made by another node once the killed
one's lease ran out. SQLite has no standby and no second machine: the PostgreSQL pass runs this."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import ON_POSTGRES
from tests.drill import drill

pytestmark = pytest.mark.skipif(not ON_POSTGRES, reason="a PostgreSQL standby: the PostgreSQL pass runs it")


def test_a_node_killed_under_load_loses_nothing_and_the_report_is_made_once(tmp_path: Path) -> None:
    # The node killed is the one making the scheduled report (its lease runs out, another node makes
    # it); nginx passes that node's submissions on, so nginx itself is killed for a second later on:
    # the clients see that failure and resend the same instance id.
    outcome = drill(tmp_path, nodes=2, clients=8, seconds=10, kill_at=1, victim=None, proxy_down_at=7,
                    report_poll=2, report_within=90)
    print(outcome.line())  # pytest -s shows the figures
    tally = outcome.tally
    assert tally.refused == {}, tally.refused  # nothing the server should not have said
    assert len(tally.acked) > 20, outcome.line()  # the load ran on both sides of the kill
    assert outcome.restart_s > 0, outcome.line()  # the node was killed and answered again
    assert outcome.killed_renderer, outcome.line()  # ... while it was making the report
    assert outcome.proxy_down_at_s is not None and tally.saw_failure >= 1, outcome.line()  # clients saw it
    assert tally.failed == 0 and tally.retried_ok == tally.saw_failure, outcome.line()  # resent and acknowledged
    assert outcome.lost == 0 and outcome.duplicates == 0, outcome.line()
    assert outcome.stored == len(tally.acked) == outcome.beneficiaries, outcome.line()
    assert outcome.standby_rows == outcome.stored, outcome.line()  # the standby has replayed them all
    assert outcome.report_runs == [("64.02", "ready", "")] and outcome.reports_made == 1, outcome.line()
