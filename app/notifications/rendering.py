"""Mail templates: templates/notifications/<name>/subject.txt, body.txt and body.html."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from app.settings import Settings

TEMPLATE_DIR = Path(__file__).resolve().parent.parent / "templates"
MAIL_DIR = TEMPLATE_DIR / "notifications"
PARTS = ("subject.txt", "body.txt", "body.html")
_NAME = re.compile(r"^[a-z0-9_]+$")


@dataclass(frozen=True)
class RenderedEmail:
    subject: str
    text: str
    html: str


def template_exists(name: str) -> bool:
    return bool(_NAME.match(name)) and all((MAIL_DIR / name / part).is_file() for part in PARTS)


def create_environment(settings: Settings) -> Environment:
    """Escaping for the HTML part only: the plain-text part and the subject are not HTML.

    A missing context value fails the job instead of mailing "Hello ," to a customer.
    """
    env = Environment(
        loader=FileSystemLoader(str(TEMPLATE_DIR)),
        autoescape=select_autoescape(enabled_extensions=("html",), default_for_string=False),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.globals["site_url"] = settings.site_url
    return env


def render_email(env: Environment, name: str, context: Mapping[str, Any]) -> RenderedEmail:
    if not _NAME.match(name):
        raise ValueError(f"not a mail template name: {name!r}")
    subject, text, html = (
        env.get_template(f"notifications/{name}/{part}").render(context) for part in PARTS
    )
    # A header is one line: whatever the template or the context put in, fold it to one.
    return RenderedEmail(" ".join(subject.split()), text, html)
