"""Build storyreel's artwork pack from the OpenMoji npm package (run by a maintainer, not at run time).

    npm pack openmoji@17.0.0 && tar xzf openmoji-17.0.0.tgz
    python scripts/build_art_pack.py package/ src/storyreel/providers/image/art/

OpenMoji (https://openmoji.org, CC BY-SA 4.0): the colour SVGs of every emoji without skin-tone variants,
country flags or components, with their annotation, tags and OpenMoji tags from ``data/openmoji.json``, written as
one gzipped JSON (``openmoji.json.gz``) beside the licence (``LICENSE-OpenMoji.txt``). Whitespace between
SVG elements is dropped; nothing else is changed.
"""

from __future__ import annotations

import gzip
import json
import re
import shutil
import sys
from pathlib import Path

SKIP_GROUPS = {"component"}


def main(package: Path, out: Path) -> None:
    meta = json.loads((package / "data" / "openmoji.json").read_text(encoding="utf-8"))
    version = json.loads((package / "package.json").read_text(encoding="utf-8"))["version"]
    entries = []
    for e in meta:
        if e["skintone"] or e["group"] in SKIP_GROUPS or (e["group"] == "flags" and e["subgroups"] != "flag"):
            continue  # skin-tone variants, components and country flags are left out
        svg = (package / "color" / "svg" / f"{e['hexcode']}.svg").read_text(encoding="utf-8")
        svg = re.sub(r">\s+<", "><", svg.strip())
        tags = [t.strip() for t in e["tags"].split(",") if t.strip()]
        extra = [t.strip() for t in e["openmoji_tags"].split(",") if t.strip()]
        entries.append({"hex": e["hexcode"], "annotation": e["annotation"], "tags": tags, "openmoji_tags": extra,
                        "group": e["group"], "subgroup": e["subgroups"], "svg": svg})
    pack = {"name": "OpenMoji", "version": version, "license": "CC BY-SA 4.0",
            "license_url": "https://creativecommons.org/licenses/by-sa/4.0/", "url": "https://openmoji.org",
            "attribution": "Emoji artwork by OpenMoji (https://openmoji.org), licensed under CC BY-SA 4.0",
            "entries": entries}
    out.mkdir(parents=True, exist_ok=True)
    with gzip.open(out / "openmoji.json.gz", "wt", encoding="utf-8", compresslevel=9) as fh:
        json.dump(pack, fh, ensure_ascii=False, separators=(",", ":"))
    shutil.copyfile(package / "LICENSE.txt", out / "LICENSE-OpenMoji.txt")
    print(f"{len(entries)} images, {(out / 'openmoji.json.gz').stat().st_size / 1e6:.2f} MB")


if __name__ == "__main__":
    main(Path(sys.argv[1]), Path(sys.argv[2]))
