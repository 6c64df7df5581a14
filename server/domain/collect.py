"""The settings ODK Collect and KoboCollect take from a QR code: JSON compressed with zlib
and encoded in base64, as ODK Central's "Configure client" code. Scanning it sets the server URL
(with the person's app key: no username or password on the phone), the project's name, the form
update mode "match exactly" (the phone keeps exactly the forms the server lists, and their new
versions) and Indonesian as the app's language."""

from __future__ import annotations

import base64
import json
import zlib
from typing import Any


def collect_settings(server_url: str, project_name: str) -> dict[str, Any]:
    return {
        "general": {"server_url": server_url, "form_update_mode": "match_exactly",
                    "periodic_form_updates_check": "every_fifteen_minutes", "autosend": "wifi_and_cellular",
                    "app_language": "id"},
        "admin": {},
        "project": {"name": project_name, "icon": "P", "color": "#0b5d4b"},
    }


def qr_payload(settings: dict[str, Any]) -> str:
    """What the QR code holds: base64(zlib(JSON))."""
    data = json.dumps(settings, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    return base64.b64encode(zlib.compress(data, 9)).decode("ascii")


def read_payload(payload: str) -> dict[str, Any]:
    """The settings back from a QR code's text (what Collect does when it scans)."""
    return json.loads(zlib.decompress(base64.b64decode(payload)).decode("utf-8"))  # type: ignore[no-any-return]
