"""Prompt templates: Markdown with YAML front matter (``name``, ``model``, ``temperature``,
``max_tokens``, ``description``) and a Jinja2 body in sections (``# System``, ``# Input``, ``# Direct``).

A template is looked up in ``<workspace>/prompts/<name>.md`` first (the user's copy, edit it to change
prompts) and then in the package. Its **content hash** enters the key of every node rendered from it, so
editing it makes exactly those nodes stale; each distinct content is stored once as a row of
``prompt_versions`` (name, version number, hash, content).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import frontmatter
from jinja2 import Environment, StrictUndefined, TemplateError

from storyreel.core.errors import InputError
from storyreel.core.hashing import hash_bytes

BUILTIN = Path(__file__).parent / "templates"
REQUIRED = ("name", "model", "temperature", "max_tokens", "description")
_ENV = Environment(undefined=StrictUndefined, autoescape=False, keep_trailing_newline=False)


@dataclass(frozen=True)
class PromptTemplate:
    name: str
    path: Path
    content: str
    content_hash: str
    meta: dict
    sections: dict[str, str]

    @property
    def model(self) -> str:
        return str(self.meta["model"])

    def render(self, section: str, **values: object) -> str:
        """Render one section with ``values``. Raises :class:`InputError` naming the template and the
        missing variable when the body refers to something not given."""
        try:
            return _ENV.from_string(self.sections[section]).render(**values).strip()
        except KeyError:
            raise InputError(f"template has no '# {section}' section", field=str(self.path), hint="add the section") from None
        except TemplateError as exc:
            raise InputError(f"template error: {exc}", field=str(self.path), hint="fix the Jinja2 body") from None


def template_path(name: str, workspace: Path | None) -> Path:
    if not re.fullmatch(r"[a-z][a-z0-9_-]{0,40}", name):
        raise InputError(f"{name!r} is not a template name", field="template")
    if workspace is not None:
        user = workspace / "prompts" / f"{name}.md"
        if user.is_file():
            return user
    return BUILTIN / f"{name}.md"


def load_template(name: str, workspace: Path | None = None) -> PromptTemplate:
    """Load and validate a template. Raises :class:`InputError` (exit 2) naming the file and field."""
    path = template_path(name, workspace)
    raw = path.read_bytes()
    try:
        post = frontmatter.loads(raw.decode("utf-8"))
    except Exception as exc:  # noqa: BLE001 - YAML errors come in several types
        raise InputError(f"front matter cannot be read: {exc}", field=str(path), hint="fix the YAML between the --- lines") from None
    missing = [k for k in REQUIRED if k not in post.metadata]
    if missing:
        raise InputError(f"front matter lacks {', '.join(missing)}", field=str(path), hint=f"give {', '.join(REQUIRED)}")
    sections: dict[str, str] = {}
    current = None
    for line in post.content.splitlines():
        head = re.fullmatch(r"#\s+(\w+)\s*", line)
        if head:
            current = head.group(1)
            sections[current] = ""
        elif current is not None:
            sections[current] += line + "\n"
    return PromptTemplate(str(post.metadata["name"]), path, raw.decode("utf-8"), hash_bytes(raw), dict(post.metadata), sections)
