"""Reading the user's input: a script, a short prompt, or chapter JSON.

The kind is detected from the content (``--kind`` overrides). Every rejection is an :class:`InputError`
naming the file, line or limit and how to fix it — raised before anything is written.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path

from storyreel.core.artifact import InputKind
from storyreel.core.errors import InputError
from storyreel.core.hashing import hash_bytes
from storyreel.core.text import strip_controls

PROMPT_MIN_CHARS = 10
PROMPT_MAX_CHARS = 500
"""Prompt length limits in characters, from seed 004 FR-005 ("accept text prompt (10-500 characters)")."""

MAX_INPUT_BYTES = 2_000_000
"""Largest accepted input file in bytes (chapter JSON carries markup beside its text)."""

STORY_MAX_CHARS = 4000
"""Longest story premise (``--kind story``): the story engine writes the rest."""
MAX_SCRIPT_CHARS = 200_000
"""Longest accepted script in characters: about 33,000 words, 3.3 hours of narration at 165 words per
minute; the storyboard's own limit (:data:`storyreel.core.artifact.MAX_SHOTS`) applies after planning."""


@dataclass(frozen=True)
class Source:
    """A validated input. ``text`` is the decoded content with normalized newlines."""

    kind: InputKind
    text: str
    name: str
    sha256: str
    data: dict | None = None  # parsed JSON for kind == "chapters"


def read_source(path: Path | None = None, *, prompt: str | None = None, kind: InputKind | None = None) -> Source:
    """Read and validate an input file or ``--prompt`` text.

    ``path``: a UTF-8 text file (script / prompt) or a ``.json`` chapter file; ``prompt``: prompt text
    given directly (exclusive with ``path``); ``kind``: force 'script', 'prompt', 'chapters' or 'story' (a premise the story engine tells, issue 27).
    Raises :class:`InputError` for a missing, empty, binary, oversized or malformed input.
    """
    if (path is None) == (prompt is None):
        raise InputError("give exactly one input: a file path or --prompt TEXT", field="input")
    if prompt is not None:
        text, name = _normalize(prompt), "prompt"
        kind = kind or "prompt"
        if kind == "chapters":
            raise InputError("--prompt text cannot be chapter JSON", field="--kind", hint="pass the JSON as a file")
    else:
        text, name = _read_text(path), path.name
        kind = kind or _detect_kind(path, text)
    if not text.strip():
        where = "--prompt" if prompt is not None else str(path)
        raise InputError(
            "the input is empty",
            field=where,
            hint=f"write a script, a prompt of {PROMPT_MIN_CHARS}–{PROMPT_MAX_CHARS} characters, or chapter JSON",
        )
    digest = hash_bytes(text.encode("utf-8"))
    if kind == "story":
        n = len(text.strip())
        if not PROMPT_MIN_CHARS <= n <= STORY_MAX_CHARS:
            raise InputError(f"a story premise is {n:,} characters; it needs {PROMPT_MIN_CHARS}–{STORY_MAX_CHARS:,}",
                             field="--prompt" if prompt is not None else name,
                             hint="say who, what and where in a sentence or a few (e.g. 'A fox and a crow argue over cheese in a forest')")
        return Source("story", text.strip(), name, digest)
    if kind == "prompt":
        _check_prompt(text, "--prompt" if prompt is not None else name)
        return Source("prompt", text.strip(), name, digest)
    if kind == "chapters":
        return Source("chapters", text, name, digest, data=_parse_json(text, name))
    if len(text) > MAX_SCRIPT_CHARS:
        raise InputError(f"the script is {len(text):,} characters; the limit is {MAX_SCRIPT_CHARS:,}",
                         field="--prompt" if prompt is not None else name, hint="split it into several projects")
    return Source("script", text, name, digest)


def _read_text(path: Path) -> str:
    if not path.exists():
        raise InputError("file not found", field=str(path), hint="check the path")
    if not path.is_file():
        raise InputError("not a regular file", field=str(path), hint="pass a text, Markdown or .json file")
    size = path.stat().st_size
    if size > MAX_INPUT_BYTES:
        raise InputError(
            f"file is {size:,} bytes; the limit is {MAX_INPUT_BYTES:,}", field=str(path), hint="split the text"
        )
    raw = path.read_bytes()
    if b"\x00" in raw:
        raise InputError(
            "this is a binary file, not text (it contains NUL bytes)",
            field=str(path),
            hint="pass a UTF-8 text, Markdown or chapter JSON file",
        )
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise InputError(
            f"not valid UTF-8 text (invalid byte 0x{raw[exc.start]:02x} at line {line})",
            field=str(path),
            hint="save the file as UTF-8",
        ) from exc
    return _normalize(text)


def _normalize(text: str) -> str:
    """Newlines normalized; control and bidi-override characters removed (:func:`strip_controls`)."""
    return strip_controls(text)


def _detect_kind(path: Path, text: str) -> InputKind:
    stripped = text.strip()
    if path.suffix.lower() == ".json" or stripped.startswith(("{", "[")):
        return "chapters"
    if len(stripped) <= PROMPT_MAX_CHARS and "\n\n" not in stripped and not stripped.startswith("#"):
        return "prompt"
    return "script"


def _check_prompt(text: str, where: str) -> None:
    n = len(text.strip())
    if n < PROMPT_MIN_CHARS:
        raise InputError(
            f"prompt is {n} characters; a prompt needs {PROMPT_MIN_CHARS}–{PROMPT_MAX_CHARS} (seed 004 FR-005)",
            field=where,
            hint="describe the video in a sentence or two",
        )
    if n > PROMPT_MAX_CHARS:
        raise InputError(
            f"prompt is {n} characters; a prompt needs {PROMPT_MIN_CHARS}–{PROMPT_MAX_CHARS} (seed 004 FR-005)",
            field=where,
            hint="shorten the brief, or pass the text as a script with --kind script",
        )


MAX_JSON_DEPTH = 32
"""How deep objects and arrays may nest in a chapter file: the schema needs six levels; a document nested
thousands deep would exhaust the parser's recursion (a crash, not bad input)."""
_JSON_STRING = re.compile(r'"(?:[^"\\]|\\.)*"')
_JSON_BRACKET = re.compile(r"[\[\]{}]")


def json_depth(text: str) -> int:
    """The deepest nesting of ``[`` and ``{`` in JSON ``text``, brackets inside strings not counted."""
    depth = deepest = 0
    for m in _JSON_BRACKET.finditer(_JSON_STRING.sub('""', text)):
        depth += 1 if m.group() in "[{" else -1
        deepest = max(deepest, depth)
    return deepest


def _parse_json(text: str, name: str) -> dict:
    if json_depth(text) > MAX_JSON_DEPTH:
        raise InputError(f"the JSON nests deeper than {MAX_JSON_DEPTH} levels", field=name,
                         hint="a chapter file is an object with a list of chapters, each a few levels deep")
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        truncated = exc.pos >= len(text.rstrip()) - 1
        raise InputError(
            f"invalid JSON at line {exc.lineno}, column {exc.colno}: {exc.msg}"
            + (" (the file looks truncated)" if truncated else ""),
            field=name,
            hint="fix the JSON syntax there (a validator such as `python -m json.tool FILE` shows it too)",
        ) from exc
    if not isinstance(data, dict):
        raise InputError(
            f"chapter JSON must be an object with 'chapters', got a {type(data).__name__}",
            field=name,
            hint='wrap it as {"schema_version": "1.0", "chapters": [...]}',
        )
    return data
