"""Up-to-date stamp: a repeated ``make`` with nothing to do answers without loading the engine.

After a ``make`` that leaves every node fresh with nothing needing attention, :func:`write` records in
``<workspace>/.stamps/make-<request>.json``:

* the request (input path, flags, workspace) — it names the stamp;
* the ``stat`` (size, mtime in ns) of every file that evaluation depended on: the input, the
  project's ``storyboard.json`` and ``options.json``, every output file of every node, the
  workspace's prompt templates and encoder choice, the ffmpeg binary and storyreel's own source files;
* the values of the environment variables the settings read, and the ``.env`` / ``storyreel.toml``
  files of the current directory;
* the result to report.

:func:`check` compares all of that (a few hundred ``stat`` calls; it imports nothing beyond the
standard library, so it skips loading SQLAlchemy, pydantic models and OpenCV, which is most of a
no-op's time) and returns the stored result only when everything matches. Any difference, a missing
file or an unreadable stamp falls through to the full evaluation, which is always authoritative; a
change the stamp cannot see (e.g. a system font replaced) is picked up by ``make --force``. This is the
shortcut build tools such as make and ninja take: trust unchanged file stats.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

from storyreel.core.atomic import atomic_write_text

STAMP_DIR = ".stamps"
PACKAGE_ROOT = Path(__file__).resolve().parents[1]  # src/storyreel


def request_id(request: dict) -> str:
    """Short hash naming a stamp: the request's identity (JSON-serializable values; for a ``make``,
    :meth:`storyreel.api.requests.MakeRequest.stamp_identity`)."""
    text = json.dumps(request, sort_keys=True, default=str, ensure_ascii=False)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:20]


def stamp_path(workspace: Path, request: dict) -> Path:
    return workspace / STAMP_DIR / f"make-{request_id(request)}.json"


def _stat(path: Path) -> list[int] | None:
    try:
        st = path.stat()
    except OSError:
        return None
    return [st.st_size, st.st_mtime_ns]


def _code_files() -> list[Path]:
    """storyreel's own files (source, templates, fonts): editing the code invalidates every stamp."""
    return sorted(p for p in PACKAGE_ROOT.rglob("*") if p.is_file() and "__pycache__" not in p.parts)


def _environment(names: list[str]) -> str:
    """Hash of the variables settings read (``STORYREEL_*`` and the declared aliases) and of the
    ``.env`` / ``storyreel.toml`` files in the current directory."""
    env = sorted((k, v) for k, v in os.environ.items() if k.startswith("STORYREEL_") or k in names)
    files = []
    for name in (".env", "storyreel.toml"):
        try:
            files.append((name, hashlib.sha256(Path(name).read_bytes()).hexdigest()))
        except OSError:
            files.append((name, None))
    return hashlib.sha256(json.dumps([env, files]).encode("utf-8")).hexdigest()


def write(
    workspace: Path, request: dict, files: list[Path], watch: list[Path], env_names: list[str], result: dict
) -> Path | None:
    """Record a fully fresh ``make``. ``files`` are every file the evaluation read or produced (absolute
    paths; storyreel's code files are added here); ``watch`` are paths that may be absent but whose
    appearance or change matters (user templates, the encoder cache, directories whose listing is
    read). Returns the stamp path, or None when a file is already gone (then no stamp is written)."""
    code = _code_files()
    stats: dict[str, list[int] | None] = {}
    for path in [*files, *code]:
        st = _stat(path)
        if st is None:
            return None
        stats[str(path)] = st
    for path in watch:
        stats[str(path)] = _stat(path)
    stamp = {
        "request": request,
        "files": stats,
        "env_names": sorted(set(env_names)),
        "env": _environment(env_names),
        "code_files": len(code),
        "result": result,
    }
    out = stamp_path(workspace, request)
    try:
        atomic_write_text(out, json.dumps(stamp, ensure_ascii=False))
    except OSError:
        return None
    return out


def check(workspace: Path, request: dict) -> dict | None:
    """The stored result when nothing the stamped ``make`` depended on has changed, else None."""
    path = stamp_path(workspace, request)
    try:
        stamp = json.loads(path.read_text(encoding="utf-8"))
        if stamp["request"] != json.loads(json.dumps(request, default=str)):
            return None
        if stamp["env"] != _environment(stamp["env_names"]):
            return None
        if len(_code_files()) != stamp["code_files"]:  # a file added or removed; changes are in "files"
            return None
        for file, st in stamp["files"].items():
            if _stat(Path(file)) != st:
                return None
        return dict(stamp["result"])
    except (OSError, ValueError, KeyError, TypeError):
        return None


def forget(workspace: Path, request: dict) -> None:
    """Remove the stamp of ``request`` (a run that did not finish fresh)."""
    try:
        stamp_path(workspace, request).unlink()
    except OSError:
        pass
