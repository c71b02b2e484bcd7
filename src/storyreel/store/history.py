"""A project's versions (issue 28 item 2; seed 004 FR-042, story 6.6): every edit (and every make that changed the
storyboard) records a version — the storyboard as it then was, what made it and, once rendered, the video's hash —
in ``history/``: ``versions.json`` (the list and the current position) and ``v<N>.storyboard.json``. Version 1 is the
storyboard as first made. ``undo``/``redo`` move the position and write that version's storyboard back; a new edit
after an undo drops the versions after the position (as editors do); ``restore N`` records version N's storyboard as a
new version. The engine re-makes only what differs, so a restored storyboard renders from cache: identical inputs give
identical bytes.
"""

from __future__ import annotations

import json
from datetime import datetime, timezone
from pathlib import Path

from storyreel.core.artifact import Storyboard
from storyreel.core.atomic import atomic_write_text
from storyreel.core.errors import InputError
from storyreel.core.hashing import hash_bytes, hash_file
from storyreel.store.files import ProjectPaths


class History:
    """The versions of one project (see the module). Callers hold the project's write lock."""

    def __init__(self, paths: ProjectPaths) -> None:
        self.paths = paths
        self.folder = paths.root / "history"

    def _index(self) -> dict:
        try:
            return json.loads((self.folder / "versions.json").read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return {"versions": [], "position": 0}

    def _save(self, index: dict) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        atomic_write_text(self.folder / "versions.json", json.dumps(index, indent=2, ensure_ascii=False) + "\n")

    def versions(self) -> list[dict]:
        """``[{"version", "what", "at", "storyboard", "video", "preview", "current"}]``, oldest first (``video``/``preview``:
        the hash of the exported video / the preview made of that version, or None)."""
        index = self._index()
        return [{**v, "current": v["version"] == index["position"]} for v in index["versions"]]

    def storyboard_of(self, version: int) -> Path:
        return self.folder / f"v{version}.storyboard.json"

    def record(self, what: str) -> int:
        """Record the storyboard on disk as a new version after the current one (unless it is the current one's
        already); versions after the current position are dropped. Returns the current version."""
        data = self.paths.storyboard.read_bytes()
        digest = hash_bytes(data)
        index = self._index()
        current = next((v for v in index["versions"] if v["version"] == index["position"]), None)
        if current is not None and current["storyboard"] == digest:
            return current["version"]
        kept = [v for v in index["versions"] if v["version"] <= index["position"]]
        for dropped in index["versions"][len(kept):]:
            self.storyboard_of(dropped["version"]).unlink(missing_ok=True)
        version = (kept[-1]["version"] + 1) if kept else 1
        self.folder.mkdir(parents=True, exist_ok=True)
        atomic_write_text(self.storyboard_of(version), data.decode("utf-8"))
        kept.append({"version": version, "what": what, "at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
                     "storyboard": digest, "video": None})
        self._save({"versions": kept, "position": version})
        return version

    def baseline(self, rendered: bool) -> None:
        """Before a change to the storyboard (an edit, a pick): the storyboard on disk is a version — version 1 the first
        time (with the video made of it when ``rendered``: the project is done), later a new one only when it was changed
        since by other means (a shot's words edited on the project page)."""
        first = not self.versions()
        self.record("as made" if first else "changed on the project page")
        if first and rendered:
            self.rendered()

    def rendered(self) -> None:
        """Note the video's hash on the current version (after a render of it)."""
        self._note("video", self.paths.video)

    def previewed(self, video: Path) -> None:
        """Note the preview's hash (``video``: the preview's file) on the current version (after a preview of it)."""
        self._note("preview", video)

    def _note(self, name: str, video: Path) -> None:
        if not (self.folder / "versions.json").is_file():
            return  # a project never edited has no versions to note
        index = self._index()
        for v in index["versions"]:
            if v["version"] == index["position"] and video.is_file():
                v[name] = hash_file(video)
        self._save(index)

    def step(self, delta: int) -> int:
        """Undo (``-1``) or redo (``+1``): write the neighbouring version's storyboard back. Raises
        :class:`InputError` when there is nothing to undo or redo."""
        index = self._index()
        target = index["position"] + delta
        if not any(v["version"] == target for v in index["versions"]):
            raise InputError("nothing to undo" if delta < 0 else "nothing to redo", field="PROJECT",
                             hint="see `storyreel versions PROJECT`")
        self._write(target)
        index["position"] = target
        self._save(index)
        return target

    def restore(self, version: int) -> int:
        """Record version ``version``'s storyboard as a new version and write it back. Raises :class:`InputError`
        (``VERSION``) for a version not recorded."""
        if not any(v["version"] == version for v in self._index()["versions"]):
            listing = ", ".join(str(v["version"]) for v in self._index()["versions"]) or "none yet"
            raise InputError(f"no version {version}; the versions: {listing}", field="VERSION", hint="see `storyreel versions PROJECT`")
        self._write(version)
        return self.record(f"restore {version}")

    def _write(self, version: int) -> None:
        text = self.storyboard_of(version).read_text(encoding="utf-8")
        Storyboard.model_validate_json(text)  # a version on disk that no longer validates is not written back
        atomic_write_text(self.paths.storyboard, text)
