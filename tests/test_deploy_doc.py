"""docs/deploy.md's systemd units and nginx site are the files an operator copies: they are taken out
of the page and checked with the real tools, `systemd-analyze verify` and `nginx -t`. Without the
tools the test skips on a developer's machine and fails in CI (CI=true), which installs them."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import REPO

GUIDE = REPO / "docs" / "deploy.md"
BLOCK = re.compile(r"```(\w+)\n(# (/etc/\S+).*?\n.*?)```", re.S)


def _files() -> dict[str, str]:
    """Every fenced block whose first line names the file it is (`# /etc/...`): path -> content."""
    return {match.group(3): match.group(2) for match in BLOCK.finditer(GUIDE.read_text(encoding="utf-8"))}


def _tool(name: str) -> str:
    found = shutil.which(name) or next((p for p in (f"/usr/sbin/{name}", f"/sbin/{name}") if os.path.exists(p)), None)
    if found is None:
        if os.environ.get("CI") == "true":
            pytest.fail(f"{name} is missing; CI must install it (.ci/run)")
        pytest.skip(f"{name} is not installed (apt-get install -y nginx-light systemd)")
    return found


def test_the_guide_holds_the_unit_the_timer_and_the_nginx_site() -> None:
    assert set(_files()) == {"/etc/systemd/system/pantau.service", "/etc/systemd/system/pantau-backup.service",
                             "/etc/systemd/system/pantau-backup.timer", "/etc/nginx/sites-available/pantau"}


def test_systemd_units_verify(tmp_path: Path) -> None:
    analyze = _tool("systemd-analyze")
    bin_dir = Path(sys.executable).parent  # the guide's /opt/pantau/.venv/bin: this checkout's venv
    assert (bin_dir / "pantau").exists()
    names = []
    for path, text in _files().items():
        if path.startswith("/etc/systemd/system/"):
            unit = tmp_path / Path(path).name
            unit.write_text(text.replace("/opt/pantau/.venv/bin/", f"{bin_dir}/"), encoding="utf-8")
            names.append(str(unit))
    text = _files()["/etc/systemd/system/pantau.service"]
    assert "ExecStart=/opt/pantau/.venv/bin/pantau serve" in text and "Restart=on-failure" in text
    assert "User=pantau" in text and "PANTAU_WORKERS" in GUIDE.read_text()
    done = subprocess.run([analyze, "verify", *names], capture_output=True, text=True, timeout=120)
    # verify exits 0 on an unknown key or a bad value, and only says so: any word from it is a failure.
    assert done.returncode == 0 and not (done.stdout + done.stderr).strip(), done.stdout + done.stderr


def test_nginx_site_passes_nginx_t(tmp_path: Path) -> None:
    nginx = _tool("nginx")
    site = _files()["/etc/nginx/sites-available/pantau"]
    for needed in ("client_header_timeout", "client_body_timeout", "client_max_body_size", "ssl_certificate",
                   "X-Forwarded-For", "proxy_pass http://pantau"):
        assert needed in site, needed
    cert, key = _self_signed(tmp_path)
    site = re.sub(r"ssl_certificate\s+\S+;", f"ssl_certificate {cert};", site)
    site = re.sub(r"ssl_certificate_key\s+\S+;", f"ssl_certificate_key {key};", site)
    site = site.replace("/var/log/nginx/", f"{tmp_path}/")
    conf = tmp_path / "nginx.conf"
    conf.write_text(f"pid {tmp_path}/nginx.pid;\nerror_log {tmp_path}/error.log;\nevents {{}}\n"
                    f"http {{\n    access_log off;\n{site}\n}}\n", encoding="utf-8")
    done = subprocess.run([nginx, "-t", "-p", str(tmp_path), "-c", str(conf), "-e", str(tmp_path / "error.log")],
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0 and "test is successful" in done.stderr, done.stderr
    assert "[warn]" not in done.stderr and "[emerg]" not in done.stderr, done.stderr


def _self_signed(folder: Path) -> tuple[Path, Path]:
    """A throwaway certificate in place of the Dinas' or Let's Encrypt's, which nginx -t opens."""
    import datetime as dt

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "pantau.kukarkab.go.id")])
    now = dt.datetime.now(dt.UTC)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now)
            .not_valid_after(now + dt.timedelta(days=1)).sign(key, hashes.SHA256()))
    cert_path, key_path = folder / "fullchain.pem", folder / "privkey.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return cert_path, key_path
