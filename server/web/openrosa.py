"""What every OpenRosa route shares (form-systems.md section 2): who is asking, the
responses' headers, the OpenRosaResponse envelope, and one set of handlers mounted twice.

Who is asking, as ODK Central answers ODK Collect:
- under `/key/<app key>/` the app key's owner (storage/app_keys.py); a key that is unknown or
  revoked is a 401 without a challenge (typing a password would not help);
- at the root, HTTP Basic with the Pantau username and password, or the session cookie for a
  read (GET/HEAD); with neither, 401 with `WWW-Authenticate: Basic realm="Pantau"`, which makes
  Collect ask for them. Failed passwords count against the same limits as the sign-in page.

Mount handlers with `openrosa_routers([...])`: each handler is served at `/<path>` and at
`/key/{app_key}/<path>`, and declares `principal: OpenRosaUser` (openrosa_principal, a dependency).
Errors raised inside (PantauError, Litestar's HTTP errors) leave as OpenRosaResponse XML with the
message in Indonesian (web/errors.py asks `is_openrosa`)."""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
import time
from typing import Any
from xml.sax.saxutils import escape

import anyio
from litestar import Response, Router
from litestar.datastructures import ResponseHeader
from litestar.di import NamedDependency, Provide

from server.domain import sign_in as rules
from server.domain.access import Principal
from server.domain.users import verify_password
from server.errors import PantauError
from server.storage import app_keys, audit, logins, users
from server.web.auth import client_address, principal_of
from server.web.deps import db_of, settings_of
from server.web.http import Request

VERSION_HEADER = "X-OpenRosa-Version"
XML = "text/xml"  # Litestar adds "; charset=utf-8"
NS_RESPONSE = "http://openrosa.org/http/response"
REALM = 'Basic realm="Pantau"'
KEY_PARAM = "app_key"
OPT = "openrosa"  # handler opt marking an OpenRosa route (errors as OpenRosaResponse XML)
_STATE_KEY = "pantau_openrosa_principal"
# Handlers under openrosa_routers declare `principal: OpenRosaUser` (openrosa_principal gives it).
OpenRosaUser = NamedDependency[Principal]
# A username:password pair proven right is not checked with argon2 (0.1 s) again for this long, as
# long as the stored hash is the same: Collect sends Basic with each of a form list's ten requests.
BASIC_TTL_S = 600.0
_PROVEN: dict[str, float] = {}
_HOST = re.compile(r"[A-Za-z0-9.-]{1,253}(:[0-9]{1,5})?|\[[0-9A-Fa-f:.]{2,45}\](:[0-9]{1,5})?")


# --- responses -------------------------------------------------------------------------------------
def xml_response(body: bytes | str, status: int = 200, headers: dict[str, str] | None = None) -> Response[bytes]:
    """An OpenRosa XML body with the OpenRosa headers (the routers add them too; this is for use
    outside them). `Date` is added to every response by web/security_headers.py."""
    data = body.encode("utf-8") if isinstance(body, str) else body
    return Response(data, status_code=status, media_type=XML,
                    headers={VERSION_HEADER: "1.0", "Cache-Control": "no-store", **(headers or {})})


def openrosa_message(text: str, status: int, *, nature: str = "", headers: dict[str, str] | None = None
                     ) -> Response[bytes]:
    """`<OpenRosaResponse><message nature=...>text</message></OpenRosaResponse>`: what Collect shows
    the person after a submission, or as the reason of an error."""
    attribute = f' nature="{escape(nature)}"' if nature else ""
    body = (f"<?xml version='1.0' encoding='UTF-8' ?>\n<OpenRosaResponse xmlns=\"{NS_RESPONSE}\" items=\"0\">"
            f"<message{attribute}>{escape(text)}</message></OpenRosaResponse>")
    return xml_response(body, status, headers)


def is_openrosa(request: Request) -> bool:
    handler = request.scope.get("route_handler")
    return bool(handler is not None and handler.opt.get(OPT))


def error_response(request: Request, error: PantauError) -> Response[bytes]:
    """An error on an OpenRosa route: the Indonesian message in the envelope. A missing or wrong
    password at the root carries the Basic challenge, so Collect asks for the username and password."""
    status = error.status if 400 <= error.status < 600 else 500
    headers = {"Retry-After": "10"} if status == 503 else {}
    if status == 401 and KEY_PARAM not in request.path_params:
        headers["WWW-Authenticate"] = REALM
    return openrosa_message(error.message("id"), status, nature="error", headers=headers)


def site_url(request: Request) -> str:
    """This site's address as the person reached it, without a trailing '/': https behind the HTTPS
    proxy (PANTAU_HTTPS), the Host asked for when it is a plain host name, else this server's own."""
    scheme = "https" if settings_of(request).https else request.url.scheme
    host = request.headers.get("host", "")
    return f"{scheme}://{host if _HOST.fullmatch(host) else request.url.netloc}"


def root_url(request: Request) -> str:
    """The OpenRosa server root the request came through, ending in '/': https://host/ or
    https://host/key/<key>/."""
    key = request.path_params.get(KEY_PARAM)
    return f"{site_url(request)}/key/{key}/" if key else f"{site_url(request)}/"


# --- who is asking ---------------------------------------------------------------------------------
async def openrosa_principal(request: Request) -> Principal:
    """The dependency `principal` of every OpenRosa handler (see the module's docstring)."""
    state = request.scope.setdefault("state", {})
    if _STATE_KEY in state:
        return state[_STATE_KEY]  # type: ignore[no-any-return]
    key = request.path_params.get(KEY_PARAM)
    if key is not None:
        principal = await app_keys.resolve(db_of(request), str(key))
        if principal is None:
            raise PantauError("openrosa.bad_key")
    else:
        principal = await basic_principal(request)
        if principal is None and request.method in ("GET", "HEAD"):
            principal = await principal_of(request)
        if principal is None:
            raise PantauError("openrosa.sign_in")
    state[_STATE_KEY] = principal
    return principal


def basic_credentials(header: str) -> tuple[str, str] | None:
    """(username, password) from `Authorization: Basic ...`, or None when there is no Basic header."""
    scheme, _, value = header.partition(" ")
    if scheme.lower() != "basic":
        return None
    try:
        decoded = base64.b64decode(value.strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        raise PantauError("openrosa.bad_credentials") from None
    username, sep, password = decoded.partition(":")
    if not sep or not username or len(username) > 80 or len(password) > 1024:
        raise PantauError("openrosa.bad_credentials")
    return username.strip().lower(), password


async def basic_principal(request: Request) -> Principal | None:
    found_credentials = basic_credentials(request.headers.get("authorization", ""))
    if found_credentials is None:
        return None
    username, password = found_credentials
    db = db_of(request)
    found = await users.password_hash_of(db, username)
    proof = hashlib.sha256(f"{username}\0{found.password_hash if found else ''}\0{password}".encode()).hexdigest()
    if found and found.active and _PROVEN.get(proof, 0.0) > time.monotonic():
        return await _principal(db, username)
    await _check_password(request, username, password, found)
    _PROVEN[proof] = time.monotonic() + BASIC_TTL_S
    if len(_PROVEN) > 10_000:
        _PROVEN.clear()
    return await _principal(db, username)


async def _check_password(request: Request, username: str, password: str,
                          found: users.Credentials | None) -> None:
    """As the sign-in page does (web/controllers/auth.py): the attempt is counted first, the hash
    checked in a thread, a failure audited; raises when the password does not prove the user."""
    from server.web.controllers.auth import _DUMMY_HASH

    db, address = db_of(request), client_address(request)
    attempt = await logins.take_attempt(db, username, address)
    if attempt is None:
        raise PantauError("auth.rate_limited", minutes=int(rules.WINDOW.total_seconds() // 60))
    ok = await anyio.to_thread.run_sync(verify_password, found.password_hash if found else _DUMMY_HASH, password)
    if not (ok and found and found.active):
        await audit.record(db, None, "auth.sign_in_failed", actor_name=username, address=address,
                           detail="openrosa inactive" if ok and found else "openrosa")
        raise PantauError("openrosa.bad_credentials")
    await logins.succeeded(db, attempt, found.user_id, username, address)


async def _principal(db: Any, username: str) -> Principal | None:
    account = await users.get(db, username)
    if account is None or not account.active:
        return None
    return Principal(id=account.id, username=account.username, display_name=account.display_name,
                     role=account.role, areas=account.areas)


# --- mounting ----------------------------------------------------------------------------------------
def openrosa_routers(handlers: list[Any]) -> list[Router]:
    """The handlers at the root and under /key/{app_key}: one OpenRosa server per app key, as ODK
    Central's app users have. Each handler gets `principal` from openrosa_principal, the
    X-OpenRosa-Version header on every answer, and errors as OpenRosaResponse XML."""
    common: dict[str, Any] = dict(
        route_handlers=handlers, dependencies={"principal": Provide(openrosa_principal)},
        response_headers=[ResponseHeader(name=VERSION_HEADER, value="1.0")], opt={OPT: True},
        include_in_schema=False)
    return [Router(path="/", **common), Router(path=f"/key/{{{KEY_PARAM}:str}}", **common)]
