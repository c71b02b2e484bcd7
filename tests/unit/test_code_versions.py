"""Code versions are kept honest: a stage's or provider's ``code_version`` is part of every node key, so
changing its code without bumping the version would leave old outputs fresh. This test hashes the code
(AST without docstrings and comments) of each stage and provider and of the storyreel.media /
storyreel.providers modules it imports, transitively, and compares with ``code_versions.lock.json``.

When it fails: bump the named ``code_version`` (outputs made by the old code are then rebuilt — for a
paid provider, bought again), then record the new state with ``python tests/unit/test_code_versions.py
--update``. A refactor that provably leaves every output byte-identical may be recorded without a bump;
the lock file's diff shows it to the reviewer, and the commit says why.
"""

from __future__ import annotations

import ast
import hashlib
import importlib
import json
import sys
from pathlib import Path

LOCK = Path(__file__).with_name("code_versions.lock.json")
SRC = Path(__file__).resolve().parents[2] / "src"
def _classes() -> list[str]:
    """Every stage of the pipeline and every built-in provider class of the registry (``module:Class``): a
    new stage or vendor is covered without being listed here (the lock then asks for it to be recorded)."""
    from storyreel.providers.registry import BUILTINS
    from storyreel.stages.pipeline import MEDIA_STAGES
    from storyreel.stages.plan import PlanStage

    stages = [f"{type(s).__module__}:{type(s).__name__}" for s in (PlanStage(), *MEDIA_STAGES)]
    providers = [spec[0] if isinstance(spec, tuple) else spec for vendors in BUILTINS.values() for spec in vendors.values()]
    providers.append("storyreel.providers.scorer.local_consistency:LocalConsistency")  # built into the select stage
    providers += ["storyreel.providers.tts.local_piper:LocalPiper", "storyreel.providers.tts.local_espeak:LocalEspeak"]  # LocalVoice's
    return list(dict.fromkeys(stages + sorted(providers)))


CLASSES = _classes()

FOLLOW = ("storyreel.media.", "storyreel.providers.")  # dependencies whose code changes outputs
TRANSPORT = {  # the contract and the wire's plumbing: how a call is made, not what it makes
    "storyreel.providers.base", "storyreel.providers.connection", "storyreel.providers.http",
    "storyreel.providers.netguard", "storyreel.providers.prices", "storyreel.providers.registry",
}


def _path(module: str) -> Path:
    base = SRC / Path(*module.split("."))
    return base / "__init__.py" if base.is_dir() else base.with_suffix(".py")


def _code(path: Path) -> tuple[str, set[str]]:
    """The module's AST without docstrings (comments are not in the AST) and the storyreel modules it imports."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    imports: set[str] = set()
    for node in ast.walk(tree):
        body = getattr(node, "body", None)
        if isinstance(body, list) and body and isinstance(body[0], ast.Expr) and isinstance(getattr(body[0], "value", None), ast.Constant) \
                and isinstance(body[0].value.value, str):
            node.body = body[1:] or [ast.Pass()]
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("storyreel."):
            imports.add(node.module)
            imports.update(f"{node.module}.{a.name}" for a in node.names if _path(f"{node.module}.{a.name}").exists())
        elif isinstance(node, ast.Import):
            imports.update(a.name for a in node.names if a.name.startswith("storyreel."))
    return ast.dump(tree), imports


def fingerprint(spec: str) -> dict:
    module = spec.partition(":")[0]
    seen, todo, digest = set(), [module], hashlib.sha256()
    while todo:
        name = todo.pop()
        if name in seen or not _path(name).exists():
            continue
        seen.add(name)
        code, imports = _code(_path(name))
        digest.update(name.encode() + b"\0" + code.encode() + b"\0")
        todo += sorted(i for i in imports if (i.startswith(FOLLOW) and i not in TRANSPORT) or i == module)
    cls = getattr(importlib.import_module(module), spec.partition(":")[2])
    return {"code_version": cls.code_version, "code": digest.hexdigest()[:16], "modules": sorted(seen)}


def current() -> dict:
    return {spec: fingerprint(spec) for spec in CLASSES}


def test_a_changed_stage_or_provider_has_a_new_code_version():
    recorded = json.loads(LOCK.read_text())
    problems = []
    for spec, now in current().items():
        was = recorded.get(spec)
        if was is None:
            problems.append(f"{spec}: not recorded yet")
        elif now["code"] != was["code"] and now["code_version"] == was["code_version"]:
            problems.append(f"{spec}: its code changed ({', '.join(now['modules'])}) but code_version is still "
                            f"{now['code_version']!r}: bump it")
        elif now != was:
            problems.append(f"{spec}: code_version {was['code_version']!r} → {now['code_version']!r} is not recorded")
    assert not problems, "\n".join(problems) + "\nthen run: python tests/unit/test_code_versions.py --update"


if __name__ == "__main__" and "--update" in sys.argv:
    sys.path.insert(0, str(SRC))
    LOCK.write_text(json.dumps(current(), indent=2, sort_keys=True) + "\n")
    print(f"recorded {len(CLASSES)} code versions in {LOCK}")
