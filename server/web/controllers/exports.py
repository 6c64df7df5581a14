"""Export downloads: CSV (a zip with one file per table), XLSX (one sheet per table) or JSON lines,
for staff and coordinators (their areas), approved records unless `status=all` is asked for. Every
download is audited. The same handler serves the page's links and scripts with an API token."""

from __future__ import annotations

import re
from typing import Any

from litestar import Router, get
from litestar.params import FromPath
from litestar.response import Stream

from server.domain import exports as layout_rules
from server.domain import review as rules
from server.domain.access import Principal
from server.errors import PantauError
from server.storage import access, audit, exports
from server.web.auth import SignedIn, client_address, signed_in
from server.web.controllers.review import parse, query_params
from server.web.deps import db_of, lang_of, settings_of
from server.web.http import Request

EXPORT_PARAMS = (rules.LIST_PARAMS - {"cursor", "cols", "limit"}) | {"format", "values"}
# The compression middleware would gzip the stream again on the event loop: a zip gains nothing,
# and 150 MB of JSON lines would stall every other request for seconds.
NO_COMPRESSION = {"skip_compression": True}


def _choice(params: dict[str, list[str]], name: str, choices: tuple[str, ...], default: str) -> str:
    values = [v for v in params.get(name, []) if v]
    value = values[0] if values else default
    if len(values) > 1 or value not in choices:
        raise PantauError("export.bad_option", name=name, choices=", ".join(choices))
    return value


async def _export(request: Request, principal: Principal, params: dict[str, list[str]]) -> Stream:
    access.require(principal, "review")
    fmt = _choice(params, "format", layout_rules.FORMATS, "csv")
    values = _choice(params, "values", layout_rules.VALUE_MODES, "codes")
    lang = _choice(params, "lang", ("id", "en"), lang_of(request))
    filters = parse(params, default_statuses=(rules.APPROVED,), allowed=EXPORT_PARAMS)
    if not filters.form_id:
        raise PantauError("export.bad_option", name="form", choices="form_id")
    # NIK/KK leave Pantau masked, for every role: whole numbers are sealed at rest (storage/pii.py) and
    # shown one record at a time, audited, on the submission page.
    # Photos in CSV and Excel are links a person opens signed in; JSON lines keep the sha256 for scripts.
    photo_url = _site(request) + "/api/v1/attachments/" if fmt in ("csv", "xlsx") else ""
    options = layout_rules.Options(values=values, lang=lang, mask_ids=True, photo_url=photo_url)
    db = db_of(request)
    prepared = await exports.prepare(db, principal, filters, fmt, options)
    pipe = exports.stream((await db.heavy_reads()).db, prepared, settings_of(request).data_dir)
    try:
        await audit.record(db, principal, "export.download", target_type="form", target_id=filters.form_id,
                           area_code=filters.area, detail=_detail(fmt, options, filters),
                           address=client_address(request))
    except BaseException:
        pipe.cancel()
        raise
    return Stream(pipe.chunks(), media_type=exports.MEDIA_TYPES[fmt],
                  headers={"Content-Disposition": f'attachment; filename="{prepared.filename}"',
                           "Cache-Control": "no-store", "X-Content-Type-Options": "nosniff"})


_HOST = re.compile(r"[A-Za-z0-9.-]{1,253}(:[0-9]{1,5})?|\[[0-9A-Fa-f:.]{2,45}\](:[0-9]{1,5})?")


def _site(request: Request) -> str:
    """This site's address as the reader reached it: https behind the HTTPS proxy (PANTAU_HTTPS), the
    Host they asked for when it is a plain host name, else this server's own."""
    scheme = "https" if settings_of(request).https else request.url.scheme
    host = request.headers.get("host", "")
    return f"{scheme}://{host if _HOST.fullmatch(host) else request.url.netloc}"


def _detail(fmt: str, options: layout_rules.Options, filters: rules.Filters) -> str:
    wanted: dict[str, Any] = {k: v for k, v in {
        "version": filters.version, "enumerator": filters.enumerator, "since": filters.since, "until": filters.until,
        "status": " ".join(filters.statuses) or "all", "flag": " ".join(filters.flags), "q": filters.name,
    }.items() if v}
    return " ".join([f"format={fmt}", f"values={options.values}", f"lang={options.lang}",
                     *(f"{k}={v}" for k, v in wanted.items())])


@get("/data/ekspor", opt=NO_COMPRESSION)
async def export_download(request: Request, principal: SignedIn) -> Stream:
    """?form=ID&format=csv|xlsx|jsonl&values=codes|labels&lang=id|en&status=all, plus the list's filters."""
    return await _export(request, principal, query_params(request))


@get("/api/v1/forms/{form_id:str}/export", opt=NO_COMPRESSION, guards=[signed_in])
async def export_api(request: Request, principal: SignedIn, form_id: FromPath[str]) -> Stream:
    """The same export for scripts (a personal API token works here): format=csv|xlsx|jsonl,
    values=codes|labels, lang=id|en; approved records unless status=all; the list's other filters."""
    params = query_params(request)
    if "form" in params:
        raise PantauError("review.bad_filter", detail="form")
    return await _export(request, principal, {**params, "form": [form_id]})


router = Router(path="/", route_handlers=[export_download, export_api])
