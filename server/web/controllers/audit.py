"""The audit log page for staff and admins: filter by action, person, record and dates; newest
first, paged by an opaque cursor. There is deliberately no route that edits or deletes entries."""

from __future__ import annotations

import datetime as dt

from litestar import Router, get
from litestar.response import Template

from server.errors import PantauError
from server.storage import access, audit
from server.web.auth import SignedIn
from server.web.contexts import AuditContext, action_label, audit_row
from server.web.deps import db_of, lang_of
from server.web.http import Request
from server.web.viewer import viewer_of

PAGE = 50


def _date(raw: str, name: str) -> dt.date | None:
    if not raw:
        return None
    try:
        return dt.date.fromisoformat(raw)
    except ValueError:
        raise PantauError("audit.bad_filter", detail=name) from None


def parse_filter(params: dict[str, str]) -> audit.AuditFilter:
    for name, value in params.items():
        if len(value) > 100:
            raise PantauError("audit.bad_filter", detail=name)
    action = params.get("action", "")
    if action and action not in audit.ACTIONS:
        raise PantauError("audit.bad_filter", detail="action")
    since, until = _date(params.get("since", ""), "since"), _date(params.get("until", ""), "until")
    if since and until and since > until:
        raise PantauError("audit.bad_filter", detail="since > until")
    cursor = params.get("cursor", "")
    return audit.AuditFilter(action=action, actor=params.get("actor", "").strip(),
                             target=params.get("target", "").strip(), since=since, until=until,
                             before=audit.decode_cursor(cursor) if cursor else None)


@get("/audit")
async def audit_page(request: Request, principal: SignedIn) -> Template:
    access.require(principal, "view_audit")
    params = {k: v for k, v in request.query_params.items() if isinstance(v, str)}
    wanted = parse_filter(params)
    found = await audit.page(db_of(request), wanted, limit=PAGE)
    entries = found.entries
    lang = lang_of(request)
    context = AuditContext(
        lang=lang, viewer=viewer_of(principal), rows=[audit_row(e, lang) for e in entries],
        actions=[(a, action_label(a, lang)) for a in audit.ACTIONS], action=wanted.action, actor=wanted.actor,
        target=wanted.target,
        since=wanted.since.isoformat() if wanted.since else "", until=wanted.until.isoformat() if wanted.until else "",
        next_cursor=audit.encode_cursor(found.next) if found.next else "",
    )
    return Template(template_name="audit.html", context={"page": context})


router = Router(path="/", route_handlers=[audit_page])
