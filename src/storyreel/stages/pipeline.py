"""The pipeline's stage order (ARCHITECTURE.md "Data flow"): the plan stage, then the media stages."""

from __future__ import annotations

from storyreel.stages.audio_segment import AudioSegmentStage
from storyreel.stages.clip import ClipStage, SegmentStage
from storyreel.stages.end_frame import EndFrameStage
from storyreel.stages.enhance import EnhanceStage
from storyreel.stages.image import ImageStage
from storyreel.stages.image_prompt import ImagePromptStage
from storyreel.stages.manifest import ManifestStage
from storyreel.stages.mix import MixStage
from storyreel.stages.motion import MotionStage
from storyreel.stages.motion_prompt import MotionPromptStage
from storyreel.stages.narration import NarrationStage
from storyreel.stages.qc import QcStage
from storyreel.stages.reference import ReferenceStage
from storyreel.stages.render import RenderStage
from storyreel.stages.select import SelectStage
from storyreel.stages.stage_image import StageImageStage

IMAGE_STAGES = (ImagePromptStage(), EnhanceStage(), ReferenceStage(), StageImageStage(), ImageStage(), SelectStage(), ManifestStage())
"""What ``imagegen`` runs: prompts, candidate images, selection and the manifest."""

SOURCE_STAGES = (ImagePromptStage(), EnhanceStage(), ReferenceStage(), StageImageStage(), ImageStage(), SelectStage(), NarrationStage(), MotionPromptStage(),
                 EndFrameStage(), MotionStage())
"""What ``render`` needs fresh before it may run."""

MEDIA_STAGES = (*IMAGE_STAGES, NarrationStage(), MotionPromptStage(), EndFrameStage(), MotionStage(), AudioSegmentStage(), ClipStage(), SegmentStage(), MixStage(), RenderStage(),
                QcStage())
"""Every stage after planning, in order."""

RENDER_STAGES = frozenset({"audio_segment", "clip", "segment", "mix", "render", "qc"})
"""The stages ``render`` (re-)runs."""
