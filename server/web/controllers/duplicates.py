"""The probable-duplicates queue (storage/duplicates.py): pairs of records that score as one person,
side by side with what differs marked, for a coordinator of their areas (staff: every area) to
decide: the same person (merged, both timelines kept) or different people (never asked again)."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import msgspec
from litestar import Litestar, Router, get, post
from litestar.params import FromPath
from litestar.response import Redirect, Template

from server import clock
from server.domain import registry as rules
from server.errors import PantauError
from server.storage import access, duplicates, pii
from server.web.auth import SignedIn, client_address, signed_in
from server.web.deps import db_of, lang_of, writer_of
from server.web.formdata import read_form, text
from server.web.http import Request
from server.web.registry_context import SEXES, pick
from server.web.viewer import Viewer, viewer_of

log = logging.getLogger("pantau.duplicates")
PATH = "/penerima/kemungkinan-sama"
POLL_S = 60.0  # how often a process checks new registrations (and whether the night's pass is due)
START_BACK = dt.timedelta(hours=1)  # a process starting checks the last hour's registrations again
FIELDS = (("name", ("Nama", "Name")), ("sex", ("Jenis kelamin", "Sex")), ("birth", ("Tanggal lahir", "Birth date")),
          ("desa", ("Desa/Kelurahan", "Village")), ("nik", ("NIK", "NIK")), ("kk", ("No. KK", "Family card")),
          ("group", ("Kelompok sasaran", "Target group")), ("registered", ("Terdaftar", "Registered")))
# Each field's level in words: why the pair scored as it did.
LEVELS = {
    "same": ("sama", "the same"), "sound": ("bunyinya sama", "sounds the same"),
    "close": ("mirip sekali", "very close"), "similar": ("agak mirip", "somewhat alike"),
    "differ": ("berbeda", "different"), "swapped": ("tanggal dan bulan tertukar", "day and month swapped"),
    "year": ("tahun sama", "same year"), "kecamatan": ("kecamatan sama", "same kecamatan"),
    "typo": ("beda satu angka atau dua angka tertukar", "one digit off or two swapped"),
}


class Cell(msgspec.Struct, frozen=True):
    label: str
    first: str
    second: str
    differs: bool


class PairShown(msgspec.Struct, frozen=True, kw_only=True):
    id: int
    first_id: str
    second_id: str
    score: float
    cells: list[Cell]
    reasons: list[str]


class QueueContext(msgspec.Struct, frozen=True, kw_only=True):
    lang: str
    viewer: Viewer
    pairs: list[PairShown]
    open_count: int


def _values(side: duplicates.Side, lang: str) -> dict[str, str]:
    return {"name": side.name, "sex": pick(SEXES[side.sex], lang) if side.sex in SEXES else "",
            "birth": side.birth_date, "desa": rules.area_name(side.area_code), "nik": side.nik, "kk": side.kk,
            "group": side.target_group, "registered": side.registered_on}


def _shown(c: duplicates.Candidate, lang: str) -> PairShown:
    one, two = _values(c.first, lang), _values(c.second, lang)
    cells = [Cell(pick(label, lang), one[key], two[key], one[key] != two[key]) for key, label in FIELDS]
    field_names = {"name": "Nama", "birth": "Tanggal lahir", "sex": "Jenis kelamin", "desa": "Desa", "kk": "No. KK",
                   "nik": "NIK"} if lang != "en" else {}
    reasons = [f"{field_names.get(f, f)}: {pick(LEVELS.get(level, (level, level)), lang)}"
               for f, level in c.levels.items()]
    return PairShown(id=c.id, first_id=c.first.id, second_id=c.second.id, score=c.score, cells=cells, reasons=reasons)


@get(PATH)
async def queue_page(request: Request, principal: SignedIn) -> Template:
    db, lang = db_of(request), lang_of(request)
    found = await duplicates.queue(db, principal)
    context = QueueContext(lang=lang, viewer=viewer_of(principal), pairs=[_shown(c, lang) for c in found],
                           open_count=await duplicates.open_count(db, principal))
    return Template(template_name="registry_candidates.html", context={"page": context})


@post(PATH + "/{candidate_id:int}", guards=[signed_in])
async def decide(request: Request, principal: SignedIn, candidate_id: FromPath[int]) -> Redirect:
    access.require(principal, duplicates.NEED)
    form = await read_form(request)
    decision, keep = text(form, "keputusan", max_len=12), text(form, "simpan", max_len=36)
    if decision not in ("same", "different"):
        raise PantauError("registry.bad_query", detail="keputusan")
    address, now = client_address(request), clock.now()
    await writer_of(request).run(lambda tx: duplicates.decide(tx, candidate_id, decision, keep, principal, address,
                                                             now))
    return Redirect(PATH)


router = Router(path="/", route_handlers=[queue_page, decide])


@asynccontextmanager
async def lifespan(app: Litestar) -> AsyncIterator[None]:
    """The passes for the app's life: new registrations each minute, the whole registry each night."""
    task = asyncio.get_running_loop().create_task(_loop(app))
    try:
        yield
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


async def _loop(app: Litestar) -> None:
    keys, mark = pii.keys_of(app.state.settings), clock.now() - START_BACK
    while True:
        await asyncio.sleep(POLL_S)
        try:
            mark = await duplicates.check_new(app.state.db, app.state.writer, keys, mark, clock.now())
            await duplicates.nightly(app.state.db, app.state.writer, keys, clock.now())
        except Exception:
            log.exception("probable-duplicates round failed")
