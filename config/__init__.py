"""Project configuration package."""

import os
from pathlib import Path


def set_default_settings_module(default: str = "config.settings.local") -> None:
    """DJANGO_SETTINGS_MODULE from the environment, else from `.env`, else `default` (local development;
    gunicorn passes production)."""
    if os.environ.get("DJANGO_SETTINGS_MODULE"):
        return
    env_file = Path(os.environ.get("ENV_FILE", Path(__file__).resolve().parent.parent / ".env"))
    if env_file.is_file():
        for line in env_file.read_text().splitlines():
            key, _, value = line.partition("=")
            if key.strip() == "DJANGO_SETTINGS_MODULE" and value.split("#")[0].strip():
                os.environ["DJANGO_SETTINGS_MODULE"] = value.split("#")[0].strip().strip("\"'")
                return
    os.environ["DJANGO_SETTINGS_MODULE"] = default
