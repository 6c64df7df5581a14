"""Editions that can be trusted: the same data made on the same day gives the same bytes; a change in
the data gives a new fingerprint (printed on the cover) and a new PDF; each edition is a PDF/A-3b
archive (XMP part 3, conformance B, fonts embedded, qpdf --check clean) carrying its indicator tables
as an embedded JSON file whose sha256 starts with the cover's fingerprint; a period under way gives a
provisional edition watermarked SEMENTARA on every page, signed on the day it was made."""

from __future__ import annotations

import asyncio
import datetime as dt
import hashlib
import io
import json
import re
import shutil
import subprocess
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import msgspec
import pypdf
import pytest

from server.errors import PantauError
from server.reports import dataset, definitions, edition, worker
from server.settings import Settings
from server.storage import reports as store
from server.storage.db import Database
from tests.reports import seed

MADE_ON = dt.date(2026, 4, 2)  # the day after 2026-Q1 ended
RDF = "{http://www.w3.org/1999/02/22-rdf-syntax-ns#}"
PDFAID = "{http://www.aiim.org/pdfa/ns/id/}"


def job(settings: Settings, made_on: dt.date = MADE_ON, period: str = "2026-Q1", scope: str = "64.02") -> worker.Job:
    return worker.Job(
        url=settings.database_url,
        data_dir=settings.data_dir,
        report="monev_triwulan",
        period=period,
        scope=scope,
        include_all=False,
        made_on=made_on,
    )


def pages_of(pdf: bytes) -> list[str]:
    return [page.extract_text() for page in pypdf.PdfReader(io.BytesIO(pdf)).pages]


def approve_everything(settings: Settings) -> None:
    """A coordinator approves the visits still waiting: data the report reads has changed."""

    async def run() -> None:
        db = Database(settings.database_url)
        await db.open()
        try:
            changed = await db.fetch(
                "UPDATE submission SET review_status = 'approved' WHERE review_status <> 'approved' RETURNING id"
            )
            assert changed
        finally:
            await db.close()

    asyncio.run(run())


def test_the_same_data_and_day_give_the_same_bytes_and_a_change_gives_a_new_edition(settings: Settings) -> None:
    seed.seed(settings)
    first, made = worker.build_pdf(job(settings))
    again, made_again = worker.build_pdf(job(settings))
    assert hashlib.sha256(first).hexdigest() == hashlib.sha256(again).hexdigest() == made.sha256 == made_again.sha256
    assert first == again
    # The worker writes the PDF to a temporary file and archives it from there (a blob streamed in
    # chunks on PostgreSQL, the file renamed into place on SQLite): the same bytes, nothing left over.
    archived = worker.make_pdf(job(settings))
    assert (archived.sha256, archived.size) == (made.sha256, len(first))
    assert store.pdf_bytes(settings.data_dir, archived.sha256, settings.database_url) == first
    assert list((Path(settings.data_dir) / "tmp").iterdir()) == []
    cover = pages_of(first)[0]
    assert re.fullmatch(r"[0-9a-f]{12}", made.fingerprint) and f"Sidik data {made.fingerprint}" in cover
    assert "Dibuat 2 April 2026" in cover and "TRIWULAN I TAHUN 2026" in cover  # the period and the day made
    # The next day: the sign-off date is content, so the bytes differ; the data, and its fingerprint, do not.
    later, made_later = worker.build_pdf(job(settings, made_on=MADE_ON + dt.timedelta(days=1)))
    assert later != first and made_later.fingerprint == made.fingerprint
    approve_everything(settings)
    changed, made_changed = worker.build_pdf(job(settings))
    assert made_changed.fingerprint != made.fingerprint and made_changed.sha256 != made.sha256
    assert f"Sidik data {made_changed.fingerprint}" in pages_of(changed)[0]


@pytest.fixture
def archived(settings: Settings) -> tuple[seed.Fixture, bytes, worker.Made, dataset.Dataset]:
    fx = seed.seed(settings)
    pdf, made = worker.build_pdf(job(settings))
    definition = definitions.load("monev_triwulan")
    period = definitions.period_for(definition, "2026-Q1")
    data = dataset.build(settings.database_url, definition, period, "64.02", False, MADE_ON)
    return fx, pdf, made, data


def test_an_edition_is_a_pdf_a_3b_with_its_tables_attached(
    archived: tuple[seed.Fixture, bytes, worker.Made, dataset.Dataset], tmp_path: Any
) -> None:
    fx, pdf, made, data = archived
    reader = pypdf.PdfReader(io.BytesIO(pdf))
    # XMP identification: PDF/A part 3, conformance B.
    xmp = ET.fromstring(reader.trailer["/Root"]["/Metadata"].get_object().get_data())
    ident = [d for d in xmp.iter(f"{RDF}Description") if d.get(f"{PDFAID}part")]
    assert [(d.get(f"{PDFAID}part"), d.get(f"{PDFAID}conformance")) for d in ident] == [("3", "B")]
    assert reader.trailer["/Root"]["/OutputIntents"][0].get_object()["/S"] == "/GTS_PDFA1"
    # Every font of every page is embedded.
    fonts = _fonts(reader)
    assert fonts and all(embedded for embedded in fonts.values()), fonts
    # The attachment is named in the document and holds the dataset the tables were made from.
    name = "data-monev_triwulan-2026-Q1-64.02.json"
    assert list(reader.attachments) == [name]
    attached = reader.attachments[name][0]
    assert name in "".join(pages_of(pdf)).replace("\n", "")
    assert hashlib.sha256(attached).hexdigest().startswith(made.fingerprint)
    assert attached == edition.canonical(data)
    content = json.loads(attached)
    assert content["tables"] == json.loads(msgspec.json.encode(data.tables))
    assert (content["report"], content["period"], content["scope"]) == ("monev_triwulan", "2026-Q1", "64.02")
    # An auditor recomputes from it: the active beneficiaries, counted here from the fixture.
    enrolment = next(t for t in content["tables"] if t["key"] == "penerima")
    assert enrolment["total"]["cells"][0] == str(len(fx.people))
    filespec = reader.trailer["/Root"]["/AF"][0].get_object()
    assert filespec["/AFRelationship"] == "/Data"
    # Identifier and dates come from the data and the day made, never the clock's second.
    assert reader.trailer["/ID"][0].original_bytes == edition.digest(data).encode()
    assert reader.metadata is not None and reader.metadata["/CreationDate"] == "D:20260402000000+08'00"
    path = tmp_path / "edisi.pdf"
    path.write_bytes(pdf)
    if shutil.which("qpdf") is None:
        pytest.fail("qpdf is needed to check the PDF's structure; .ci/run installs it")
    checked = subprocess.run(["qpdf", "--check", str(path)], capture_output=True, text=True)
    assert checked.returncode == 0, checked.stdout + checked.stderr


def _fonts(reader: pypdf.PdfReader) -> dict[str, bool]:
    """Base font name -> whether its program is embedded (FontFile, FontFile2 or FontFile3)."""
    found: dict[str, bool] = {}
    for page in reader.pages:
        resources = page.get("/Resources")
        for font in (resources.get_object().get("/Font") or {}).values() if resources else []:
            font = font.get_object()
            described = font["/DescendantFonts"][0].get_object() if "/DescendantFonts" in font else font
            descriptor = described["/FontDescriptor"].get_object()
            found[str(font["/BaseFont"])] = any(k in descriptor for k in ("/FontFile", "/FontFile2", "/FontFile3"))
    return found


def test_a_period_under_way_gives_a_provisional_edition_signed_on_the_day_made(settings: Settings) -> None:
    seed.seed(settings)
    today = dt.date(2026, 3, 20)  # 2026-Q1 runs until 31 March
    pdf, made = worker.build_pdf(job(settings, made_on=today))
    assert made.provisional
    pages = pages_of(pdf)
    assert all("SEMENTARA" in page for page in pages), [i for i, p in enumerate(pages) if "SEMENTARA" not in p]
    assert "Dibuat 20 Maret 2026" in pages[0] and "Tenggarong, 20 Maret 2026" in "\n".join(pages)
    final, made_final = worker.build_pdf(job(settings, made_on=MADE_ON))
    assert not made_final.provisional
    assert not any("SEMENTARA" in page for page in pages_of(final))
    text = "\n".join(pages_of(final))
    assert "Tenggarong, 2 April 2026" in text and "Tenggarong, 31 Maret 2026" not in text


def test_a_period_that_has_not_begun_is_refused(settings: Settings) -> None:
    with pytest.raises(PantauError) as refused:
        worker.build_pdf(job(settings, made_on=dt.date(2026, 3, 31), period="2026-Q2"))
    assert refused.value.code == "report.not_started" and 400 <= refused.value.status < 500
    with pytest.raises(PantauError):
        worker.make_pdf(job(settings, made_on=dt.date(2026, 3, 31), period="2026-Q2"))
    assert list((Path(settings.data_dir) / "tmp").iterdir()) == []  # its temporary file is gone too
    # Its first day is enough: the period has begun.
    q2 = definitions.period_for(definitions.load("monev_triwulan"), "2026-Q2")
    definitions.require_started(q2, dt.date(2026, 4, 1))


def test_an_edition_read_from_the_standby_prints_its_data_time_and_keeps_its_fingerprint(settings: Settings) -> None:
    """Read from PostgreSQL's hot standby (storage/replica.py), the approval sheet says how recent the
    data is; the same data keeps the same fingerprint wherever it was read."""
    seed.seed(settings)
    plain, made = worker.build_pdf(job(settings))
    from_standby, made_there = worker.build_pdf(msgspec.structs.replace(job(settings), data_time="2026-04-02 07:45"))
    assert made_there.fingerprint == made.fingerprint
    text = " ".join(pages_of(from_standby))
    assert re.search(r"Data per\s+2026-04-02 07:45 WITA", text)
    assert "Data per" not in " ".join(pages_of(plain))
