"""Offline first, the pure half: the release string the service worker carries, the
manifest of what it caches, the typed contexts of the phone's Draf, Terkirim and import pages, and
the format of an exported outbox file (decoded strictly: a bad file is a 400, never a 500)."""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import hashlib
import posixpath
import re
from collections.abc import Sequence
from functools import lru_cache
from pathlib import PurePosixPath
from typing import Annotated, Any, Literal

import msgspec

from server.domain.access import Principal
from server.domain.review import status_label
from server.errors import PantauError
from server.storage.forms import FormTitle
from server.storage.offline import OfflineVersion
from server.storage.review import Correction
from server.storage.submissions import Summary
from server.web.fill_assets import (
    LAZY_MODULES,
    STATIC,
    asset_urls,
    asset_version,
    growth_tables_url,
    media_assets,
    safe_json,
)
from server.web.input_guard import nul_path
from server.web.schemas import SubmissionIn
from server.web.viewer import Viewer, viewer_of

SW_FILE = STATIC / "js" / "sw.js"
Sha256 = Annotated[str, msgspec.Meta(pattern=r"^[0-9a-f]{64}$")]


def release(versions: list[OfflineVersion], media: Sequence[str] = ()) -> str:
    """Changes with every release of the static files, every form version a phone may cache and
    every form media file uploaded (storage/form_media.every_hash)."""
    digest = hashlib.sha256(asset_version().encode())
    for v in versions:
        digest.update(f"\0{v.form_id}\0{v.version}".encode())
    for m in media:
        digest.update(f"\0{m}".encode())
    return digest.hexdigest()[:12]


def phone_assets() -> dict[str, str]:
    base = f"/aset/{asset_version()}"
    return {**asset_urls(), "offline": f"{base}/js/offline.js"}


_IMPORT = re.compile(r"""(?:\bfrom\s*|\bimport\s*\(\s*|^import\s+)['"](\.{1,2}/[^'"]+\.js)['"]""", re.MULTILINE)


# The scripts a fill page names: the runtime, the beneficiary picker on forms that have one, the
# ODK functions on forms that call them, and the widgets form.js imports by name (its spec.mods).
PAGE_SCRIPTS = ("js/form.js", "js/picker.js", "js/expr-more.js", "js/expr-digest.js",
                *(f"js/{name}.js" for name in LAZY_MODULES))


@lru_cache(maxsize=1)
def module_graph(entries: tuple[str, ...] = PAGE_SCRIPTS) -> tuple[str, ...]:
    """The fill page's scripts and every module they import, statically or lazily, as paths under
    static/: a module missing from the cache would stop a form opening offline, and one they never
    import (the editor's) would only weigh on the phone."""
    found = [e for e in entries if (STATIC / e).is_file()]
    todo = list(found)
    while todo:
        here = PurePosixPath(todo.pop())
        for relative in _IMPORT.findall((STATIC / here).read_text(encoding="utf-8")):
            path = posixpath.normpath((here.parent / relative).as_posix())
            if path not in found:
                found.append(path)
                todo.append(path)
    return tuple(found)


def shell_assets() -> list[str]:
    """The WHO growth tables too (8 KB gzipped): a growth check opened offline computes its z-scores."""
    base = f"/aset/{asset_version()}"
    return sorted({*asset_urls().values(), *(f"{base}/{path}" for path in module_graph()),
                   growth_tables_url(), *media_assets({"": ""}).values()})


def page_key(form_id: str, version: str | None, newest: bool) -> str:
    """The URL a fill page is cached under (sw.js makes the same key from a navigation)."""
    return f"/f/{form_id}" if newest or not version else f"/f/{form_id}?v={version}"


def manifest(versions: list[OfflineVersion], user: str, programmes: list[str] | None = None, *,
             media: Sequence[str] = (), media_urls: Sequence[str] = ()) -> dict[str, Any]:
    """Pages in Bahasa Indonesia only: an English page is cached when it is visited. The rules URL
    follows fill_assets.rules_url."""
    forms: dict[str, dict[str, Any]] = {}
    pages, rules = [], []
    for v in versions:
        entry = forms.setdefault(v.form_id, {"form_id": v.form_id, "title": v.title_id or v.form_id, "versions": []})
        entry["versions"].append(v.version)
        pages.append(page_key(v.form_id, v.version, v.newest))
        rules.append(f"/f/{v.form_id}/aturan?v={v.version}&lang=id&r={asset_version()}")
    return {
        "release": release(versions, media),
        "user": user,
        "shell": [*shell_assets(), "/static/css/pantau.css", "/", "/draf", "/terkirim", "/akun"],
        "programmes": programmes or [],
        "pages": pages,
        "rules": rules,
        "media": list(media_urls),  # the image, audio and video files of the forms (web/media_urls.py)
        "forms": list(forms.values()),
    }


# --- the phone's pages (offline.js holds their texts: states, buttons, the storage message) ------------
class SentRow(msgspec.Struct, frozen=True):
    instance_id: str
    title: str
    revision: int
    status: str
    received_at: str


class CorrectionRow(msgspec.Struct, frozen=True):
    instance_id: str
    title: str
    comment: str
    reviewer: str
    url: str


class ImportRow(msgspec.Struct, frozen=True):
    instance_id: str
    form_id: str
    outcome: str  # new, identical, edit, or the problem's code
    message: str = ""


class ImportContext(msgspec.Struct, frozen=True):
    user: str
    rows: list[ImportRow]
    photos: int

    @property
    def created(self) -> int:
        return sum(1 for r in self.rows if r.outcome in ("new", "edit"))


class PhonePageContext(msgspec.Struct, frozen=True, kw_only=True):
    lang: str
    viewer: Viewer
    which: str  # draf, terkirim, impor
    assets: dict[str, str]
    config: str  # JSON for offline.js: the texts in this language
    sent: list[SentRow] = []
    corrections: list[CorrectionRow] = []
    imported: ImportContext | None = None
    error: str = ""


def _local(at: dt.datetime) -> str:
    return at.astimezone(dt.timezone(dt.timedelta(hours=8))).strftime("%Y-%m-%d %H:%M WITA")


def phone_page_context(
    principal: Principal,
    lang: str,
    which: str,
    *,
    sent: list[Summary] | None = None,
    corrections: list[Correction] | None = None,
    titles: list[FormTitle] | None = None,
    imported: ImportContext | None = None,
    error: str = "",
) -> PhonePageContext:
    named = {t.form_id: t.title(lang) for t in titles or []}
    query = "?lang=en" if lang == "en" else ""
    return PhonePageContext(
        lang=lang,
        viewer=viewer_of(principal),
        which=which,
        assets=phone_assets(),
        error=error,
        imported=imported,
        config=safe_json({"lang": lang, "page": which, "user": principal.username}),
        sent=[
            SentRow(s.instance_id, named.get(s.form_id, s.form_id), s.revision, status_label(s.review_status, lang),
                    _local(s.received_at))
            for s in sent or []
        ],
        corrections=[
            CorrectionRow(
                c.instance_id,
                named.get(c.form_id, c.form_id),
                c.comment,
                c.reviewer,
                f"/perbaiki/{c.instance_id}{query}",
            )
            for c in corrections or []
        ],
    )


# --- an exported outbox file (offline.js exportFile writes it) ----------------------------------------------
class OutboxFile(msgspec.Struct, kw_only=True):
    format: Literal["pantau-outbox"]
    version: Literal[1]
    user: Annotated[str, msgspec.Meta(min_length=1, max_length=80)]
    exported_at: str = ""
    # Each item is what the phone would have posted to /api/v1/submissions: the same Struct.
    items: Annotated[list[SubmissionIn], msgspec.Meta(max_length=10_000)]
    photos: dict[Sha256, str] = {}  # sha256 -> the bytes in base64


def parse_outbox(data: bytes) -> tuple[OutboxFile, dict[str, bytes]]:
    """The file and its photos' bytes, each checked against the hash it is filed under."""
    try:
        parsed = msgspec.json.decode(data, type=OutboxFile)
    except msgspec.DecodeError as error:
        raise PantauError("outbox.bad_file", detail=str(error)[:200]) from None
    # The file is a body inside the body: the request check cannot see into it (input_guard).
    if b"\\u0000" in data and (where := nul_path(msgspec.json.decode(data))) is not None:
        raise PantauError("http.nul_character", field=f"berkas: {where}")
    photos = {}
    for sha, text in parsed.photos.items():
        try:
            raw = base64.b64decode(text, validate=True)
        except (binascii.Error, ValueError):
            raise PantauError("outbox.bad_file", detail=f"photos.{sha[:12]}: base64") from None
        if hashlib.sha256(raw).hexdigest() != sha:
            raise PantauError("outbox.bad_file", detail=f"photos.{sha[:12]}: sha256")
        photos[sha] = raw
    return parsed, photos
