"""Helpers that read settings from the environment."""

import os
import secrets
from pathlib import Path

# The value Django's startproject would leave behind; refused outside DEBUG.
INSECURE_SECRET_PREFIX = "django-insecure-"


def env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_list(name: str, default: list[str]) -> list[str]:
    value = os.environ.get(name)
    if not value:
        return default
    return [item.strip() for item in value.split(",") if item.strip()]


def load_or_create_secret(data_dir: Path) -> str:
    """The demo's secret: generated once, kept in the data directory."""
    path = data_dir / "secret_key"
    try:
        return path.read_text().strip()
    except FileNotFoundError:
        pass
    data_dir.mkdir(parents=True, exist_ok=True)
    key = secrets.token_urlsafe(50)
    # O_EXCL: two processes starting at once keep one secret, not two.
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return path.read_text().strip()
    with os.fdopen(fd, "w") as fh:
        fh.write(key)
    return key


def origin_of(url_template: str) -> str:
    """The CSP source for a tile URL template (`https://t{s}.host/{z}/{x}/{y}.png`
    → `https://*.host`), or "" for none or a relative URL (this host)."""
    from urllib.parse import urlsplit

    if not url_template or "://" not in url_template:
        return ""
    parts = urlsplit(url_template.replace("{", "%7B").replace("}", "%7D"))
    labels = parts.netloc.split(".")
    if "%7B" in labels[0]:
        labels[0] = "*"  # a subdomain placeholder: any subdomain of that host
    if any("%7B" in label for label in labels):
        return f"{parts.scheme}:"  # a placeholder deeper in the host: that scheme
    return f"{parts.scheme}://{'.'.join(labels)}"
