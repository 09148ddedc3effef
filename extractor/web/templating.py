"""The Jinja2 environment of the pages: autoescape on for every template (report text is untrusted)."""

from __future__ import annotations

from importlib.resources import files
from typing import Any

import jinja2
from fastapi.templating import Jinja2Templates

from extractor.lexicon.labels import rule_title
from extractor.store.accounts import ROLE_LABELS
from extractor.store.batches import STATE_LABELS, STATUS_LABELS
from extractor.store.catalog import SEVERITY_LABELS
from extractor.store.catalog import STATE_LABELS as REVIEW_LABELS
from extractor.store.review import DECISION_LABELS
from extractor.web.words import reason


def number(value: Any) -> str:
    """A cell value as a person reads it: integers plain, floats without trailing zeros, none as —."""
    if value is None or value == "":
        return "—"
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else f"{value:.4f}".rstrip("0").rstrip(".")
    return str(value)


_env = jinja2.Environment(
    loader=jinja2.FileSystemLoader(str(files("extractor.web") / "templates")),
    autoescape=True,  # always, whatever the file's extension
    undefined=jinja2.StrictUndefined,
)
_env.filters["number"] = number
_env.filters["reason"] = reason
_env.filters["rule_title"] = rule_title
_env.globals.update(
    ROLE_LABELS=ROLE_LABELS,
    FILE_STATUS_LABELS=STATUS_LABELS,
    BATCH_STATE_LABELS=STATE_LABELS,
    SEVERITY_LABELS=SEVERITY_LABELS,
    REVIEW_LABELS=REVIEW_LABELS,
    DECISION_LABELS=DECISION_LABELS,
)
templates = Jinja2Templates(env=_env)


def render(request: Any, name: str, who: Any = None, nav: str = "", status_code: int = 200, **context: Any):
    """A page; every template gets `who` (the session, or None) and `nav` (the menu entry to mark)."""
    return templates.TemplateResponse(request, name, {"who": who, "nav": nav, **context}, status_code=status_code)
