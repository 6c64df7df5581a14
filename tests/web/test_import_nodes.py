"""A registry import across two real `pantau serve` processes on one database (the SQLite file of
one machine, or the PostgreSQL of several nodes, which then share no disk): the list uploaded on one
is checked there while the other shows its progress, its rows, its reasons, and commits it; a check
whose process stops reads as interrupted on the other, which checks the kept file again."""

from __future__ import annotations

import asyncio
import io
import time
from pathlib import Path
from typing import Any

import httpx
from openpyxl import load_workbook

from server.settings import Settings
from server.storage import import_jobs as jobs
from tests.conftest import REPO
from tests.domain.test_registry_import import SITI, office_rows, office_xlsx
from tests.serving import stop
from tests.web.live import csrf, query, sign_in, started_nodes
from tests.web.test_registry import publish_source

BIG_ROWS = 150_000  # its check lasts seconds: still running when its process is stopped (40,000 once took < 2 s)


async def _upload(client: httpx.AsyncClient, name: str, content: bytes) -> str:
    sent = await client.post("/penerima/impor", files={"berkas": (name, content)},
                             data={"_csrf_token": await csrf(client), "program": "bansos"})
    assert sent.status_code == 303, sent.text
    return str(sent.headers["location"])


async def _state(client: httpx.AsyncClient, job: str) -> dict[str, Any]:
    answer = await client.get(f"{job}/status")
    assert answer.status_code == 200, answer.text
    return dict(answer.json())


async def _until(client: httpx.AsyncClient, job: str, wanted: Any, seconds: float) -> dict[str, Any]:
    started = time.monotonic()
    while not wanted(state := await _state(client, job)):
        assert time.monotonic() - started < seconds, state
        await asyncio.sleep(0.2)
    return state


async def test_an_import_uploaded_on_one_node_is_followed_and_committed_on_the_other(
        settings: Settings, people: dict[str, int], tmp_path: Path) -> None:
    source = (REPO / "forms" / "registrasi_penerima.yaml").read_bytes()
    await asyncio.to_thread(publish_source, settings, source, "registrasi_penerima.yaml")
    content = office_xlsx(tmp_path / "uep.xlsx", office_rows()).read_bytes()
    big = ("Nama,NIK,Desa\n" + "".join(f"Orang {n},{SITI},Jahab\n" for n in range(BIG_ROWS))).encode()
    with started_nodes(settings, tmp_path) as ((a, b), (process_a, _b)):
        async with a.client() as on_a, b.client() as on_b:
            assert (await sign_in(on_a, "ani")).status_code == 302
            on_b.cookies.set("pantau_sesi", on_a.cookies["pantau_sesi"])

            job = await _upload(on_a, "uep.xlsx", content)
            done = await _until(on_b, job, lambda s: s["state"] != "checking", 60)
            assert done == {"state": "checked", "done": 3, "total": 3}
            page = await on_b.get(job)
            assert page.status_code == 200 and 'data-summary="2 1 0"' in page.text
            reasons = await on_b.get(f"{job}/alasan")
            assert reasons.status_code == 200
            levels = [row[-2] for row in load_workbook(io.BytesIO(reasons.content)).active.iter_rows(
                min_row=2, values_only=True)]
            assert sorted(levels) == ["ok", "ok", "peringatan"]
            committed = await on_b.post(f"{job}/simpan", data={"pilihan": "peringatan", "konfirmasi": "ya",
                                                               "_csrf_token": await csrf(on_b)})
            assert committed.status_code == 303, committed.text
            assert 'data-created="3"' in (await on_a.get(job)).text  # the other node sees it done
            stored = await query(settings, "SELECT b.name, e.summary FROM beneficiary b JOIN beneficiary_event e "
                                          "ON e.beneficiary = b.id WHERE b.programme = 'bansos' ORDER BY b.name")
            assert sorted(r["name"] for r in stored) == sorted(str(row[1]) for row in office_rows())
            assert all("diimpor dari uep.xlsx oleh ani" in r["summary"] for r in stored)

            # A check whose process stops: interrupted on the other node, which checks the kept file again.
            long = await _upload(on_a, "besar.csv", big)
            midway = await _until(on_b, long, lambda s: s["state"] != "checking" or s["done"] > 0, 120)
            assert midway["state"] == "checking" and 0 < midway["done"] < BIG_ROWS, midway
            await asyncio.to_thread(stop, process_a)
            # A clean stop marks it at once; a node that could not stop cleanly is found silent after STALE_S.
            interrupted = await _until(on_b, long, lambda s: s["state"] != "checking", jobs.STALE_S + 30)
            assert interrupted["state"] == "interrupted"
            page = await on_b.get(long)
            assert 'data-state="interrupted"' in page.text and "server dimulai ulang" in page.text
            again = await on_b.post(f"{long}/ulang", data={"_csrf_token": await csrf(on_b)})
            assert again.status_code == 303, again.text
            finished = await _until(on_b, long, lambda s: s["state"] != "checking", 300)
            assert finished == {"state": "checked", "done": BIG_ROWS, "total": BIG_ROWS}
            assert f"{BIG_ROWS} baris" in (await on_b.get(long)).text
