"""Offline first, the pure half: the release string the service worker carries, the
manifest of what it caches, the typed contexts of the phone's Draf, Terkirim and import pages, and
the format of an exported outbox file (decoded strictly: a bad file is a 400, never a 500)."""

from __future__ import annotations

import datetime as dt
import hashlib
import posixpath
import re
from collections.abc import Sequence
from functools import lru_cache
from pathlib import PurePosixPath
from typing import Annotated, Any, BinaryIO, Literal

import msgspec

from server.domain import media
from server.domain.access import Principal
from server.domain.review import status_label
from server.errors import PantauError, too_large
from server.storage.attachments import sniff_image
from server.storage.forms import FormTitle
from server.storage.offline import OfflineVersion
from server.storage.review import Correction
from server.storage.submissions import Summary
from server.web import outbox_stream
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


class OutboxPhoto(msgspec.Struct, frozen=True, kw_only=True):
    """A photo, recording or file of the file, checked: its hash is what it is filed under."""

    sha256: str
    size: int
    head: bytes  # its first bytes (media.HEAD), which say what it is
    image: str | None  # the image type its bytes show, None for a recording or file


class OutboxLimits(msgspec.Struct, frozen=True, kw_only=True):
    image: int  # settings.max_attachment_bytes
    file: int  # settings.max_file_bytes
    text: int  # the items and the other fields, as JSON text


def check_outbox(source: BinaryIO, limits: OutboxLimits) -> tuple[OutboxFile, dict[str, OutboxPhoto]]:
    """The file read once, a chunk at a time (outbox_stream): its fields and items decoded strictly,
    each photo's base64 decoded and hashed as it passes and checked against the hash it is filed
    under and against the size its kind may have. Nothing is kept but the items and what each photo
    is; storing reads the file a second time (outbox_import)."""
    fields: list[bytes] = []
    photos: dict[str, OutboxPhoto] = {}
    current: _Photo | None = None
    for event in outbox_stream.events(source, limits.text):
        if isinstance(event, outbox_stream.Field):
            fields.append(event.key + b":" + event.value)
        elif isinstance(event, outbox_stream.PhotoStart):
            current = _Photo(event.sha256, limits)
        elif isinstance(event, outbox_stream.PhotoPiece):
            assert current is not None
            current.add(current.decoder.feed(event.data))
        else:
            assert current is not None
            photos[event.sha256] = current.done()
    skeleton = b"{" + b",".join([*fields, b'"photos":' + msgspec.json.encode(dict.fromkeys(photos, ""))]) + b"}"
    try:
        parsed = msgspec.json.decode(skeleton, type=OutboxFile)
    except msgspec.DecodeError as error:
        raise PantauError("outbox.bad_file", detail=str(error)[:200]) from None
    # The file is a body inside the body: the request check cannot see into it (input_guard).
    if b"\\u0000" in skeleton and (where := nul_path(msgspec.json.decode(skeleton))) is not None:
        raise PantauError("http.nul_character", field=f"berkas: {where}")
    return parsed, photos


class _Photo:
    """One photo's base64 on its way through: decoded, hashed, measured, its first bytes kept."""

    def __init__(self, sha256: str, limits: OutboxLimits) -> None:
        self.sha256, self.limits = sha256, limits
        self.decoder = outbox_stream.Base64(sha256)
        self.digest, self.size, self.head = hashlib.sha256(), 0, b""
        self.limit = max(limits.image, limits.file)

    def add(self, data: bytes) -> None:
        self.digest.update(data)
        self.size += len(data)
        if len(self.head) < media.HEAD:
            self.head += data[:media.HEAD - len(self.head)]
            if len(self.head) >= 16:
                self.limit = self.limits.file if sniff_image(self.head) is None else self.limits.image
        if self.size > self.limit:
            self._too_large()

    def _too_large(self) -> None:
        if sniff_image(self.head) is None:
            raise too_large(self.limits.file, "attachment.file_too_large")
        raise too_large(self.limits.image)

    def done(self) -> OutboxPhoto:
        self.add(self.decoder.end())
        image = sniff_image(self.head)
        if self.size > (self.limits.image if image else self.limits.file):
            self._too_large()
        if self.size == 0:
            raise PantauError("attachment.empty")
        if self.digest.hexdigest() != self.sha256:
            raise PantauError("outbox.bad_file", detail=f"photos.{self.sha256[:12]}: sha256")
        return OutboxPhoto(sha256=self.sha256, size=self.size, head=self.head, image=image)
