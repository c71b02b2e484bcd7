"""Delivery standards every stage and check shares, each written once with its source.

Loudness: the audio pass aims at :data:`TARGET_LUFS` with true peaks under :data:`MIX_TRUE_PEAK_DBTP`;
QC accepts :data:`TARGET_LUFS` ± :data:`LOUDNESS_TOLERANCE_LU` and peaks up to :data:`TRUE_PEAK_MAX_DBTP`.
Picture: text must stay inside the title-safe area (:data:`TITLE_SAFE_MARGIN`); subtitles and overlays
are laid out further in (:data:`TEXT_INSET`).
"""

from __future__ import annotations

TARGET_LUFS = -16.0
"""Integrated loudness target in LUFS, measured per EBU R128 / ITU-R BS.1770; −16 LUFS is the
online-platform distribution target of AES TD1004 (EBU R128's −23 LUFS is for broadcast)."""

LOUDNESS_TOLERANCE_LU = 1.0
"""Accepted deviation from :data:`TARGET_LUFS` in LU (EBU R128 §5: ±1 LU for live-like programmes)."""

TRUE_PEAK_MAX_DBTP = -1.0
"""Maximum true peak of the delivered file in dBTP (EBU R128 / AES TD1004)."""

MIX_TRUE_PEAK_DBTP = -2.0
"""True-peak ceiling of the audio pass in dBTP: 1 dB of headroom under :data:`TRUE_PEAK_MAX_DBTP` for
the inter-sample overs an AAC encode adds."""

TITLE_SAFE_MARGIN = 0.05
"""Title-safe (graphics-safe) margin as a fraction of width and height on each side: the safe area is
the central 90 % (EBU R 95, "Safe areas for 16:9 television production", graphics safe area)."""

TEXT_INSET = 0.10
"""Inset of subtitles and overlays as a fraction of width/height on each side — storyreel's own layout
choice, twice :data:`TITLE_SAFE_MARGIN`: lines at most 80 % of the frame wide read at a glance and
leave the title-safe area a margin of their own (QC checks the title-safe area, not this inset)."""
