"""The provider contract: request/response models, one Protocol per modality, and base classes.

Providers know nothing of stages, the database or the web: they take a typed request and return a
typed result carrying ``provider_details`` (recorded in provenance) and ``cost_usd``. Everything a
caller needs is declared here — the call, its price (``estimate``), what would be sent (``payload``,
for dry runs), what changes the output (``identity``, part of node keys) and the capabilities as class
attributes — so no caller probes a provider with ``hasattr`` or by its name.

Capabilities (class attributes of :class:`Provider`):

* ``offline``: runs locally, no network, no key (the embedded default engines);
* ``paid``: calls are priced and reserved in the cost ledger before they run;
* ``needs_key`` / ``key_env_var``: taken from the provider's :class:`~storyreel.providers.connection.Connection`;
* ``max_concurrency``: calls in flight the vendor tolerates (None: the settings decide);
* ``deduplication``: how a repeated paid request is billed once, with the vendor's documentation of it
  (:class:`Deduplication`), or None — then a create whose answer was lost is an *uncertain* spend, never
  sent again blindly;
* image providers also declare ``max_candidates`` (native batch size), ``accepts_reference_images`` and
  ``client_caps_calls``; LLM providers ``runs_agents``.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from enum import Enum
from pathlib import Path
from typing import Any, ClassVar, Literal, Protocol, runtime_checkable

from pydantic import BaseModel, ConfigDict, Field

from storyreel.core.artifact import AspectRatio, CameraMove, InputKind, Storyboard, VisualType
from storyreel.core.words import WordTiming
from storyreel.providers.connection import Connection
from storyreel.providers.prices import PriceTable, llm_cost, llm_estimate

__all__ = [
    "ConsistencyScorer", "Deduplication", "HttpProvider", "ImageGenService", "ImageProvider", "ImageRequest", "ImageResult", "ImageScorer", "JobLog",
    "Judge", "LlmResult", "LlmStep", "PaidSpeechService", "Planner", "PlannerRequest", "Provider", "Received",
    "SpeechRequest", "SpeechResult", "SpeechService", "VideoRequest", "VideoService", "WordTiming",
]


class _Msg(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


# ----------------------------------------------------------------------------------------- messages
class PlannerRequest(_Msg):
    """Input of a planner: the validated source text and the user's overrides."""

    kind: InputKind
    text: str
    name: str
    sha256: str
    project_id: str | None = None
    language: str | None = Field(default=None, description="Override; guessed from the text when None.")
    aspect_ratio: AspectRatio | None = None
    words_per_minute: float = 165.0


class ReferenceImage(_Msg):
    """A reference image sent with a request to a provider that accepts input images (an entity the shot
    shows): ``label`` (what it is), ``sha256`` (the payload names the image by it, so the request key changes
    with the image) and ``path`` (read when the call is made; never in a payload or a key)."""

    label: str
    sha256: str
    path: str = Field(exclude=True)
    role: Literal["entity", "stage"] = Field(default="entity", exclude=True, description=(
        "entity: a character, product or place the image shows; stage: the scene's stage-setting picture (story mode) — "
        "renderers that compose pictures (local:cards) draw only the entities."))


class ImageRequest(_Msg):
    """One image to make. ``width``/``height`` in pixels are the exact output size."""

    shot_id: str
    visual_type: VisualType
    description: str
    prompt: str = Field(description="Full prompt text (style prefix + description, or the shot's override).")
    chapter_title: str
    project_title: str
    narration: str
    palette: list[str]
    width: int = Field(ge=64, le=8192)
    height: int = Field(ge=64, le=8192)
    seed: int = Field(ge=0)
    language: str = Field(default="en", description="Language of the narration and description (BCP 47).")
    camera_move: CameraMove = Field(default="zoom_in", description="The shot's Ken Burns move (the renderer aims a composition at its end).")
    text_area: list[float] | None = Field(
        default=None, min_length=4, max_length=4,
        description="Where a renderer that draws text puts it and its key shapes: [x0, y0, x1, y1] in pixels of "
        "the image, clear of the shot's overlays and subtitles and inside the title-safe area at every frame of "
        "the camera move (storyreel.media.layout); None = the title-safe area. Never sent to a vendor.",
    )
    count: int = Field(
        default=1, ge=1, le=10,
        description="Images in one call (a native batch, the vendor's ``n``; at most the provider's ``max_candidates``).",
    )
    references: list[ReferenceImage] = Field(
        default_factory=list, max_length=8,
        description="Reference images of the entities the shot shows, for providers with accepts_reference_images.",
    )
    variant: int = Field(
        default=0, ge=0, le=7,
        description="Candidate number − 1 (best-of-N): a renderer that composes (local:cards) varies its "
        "composition with it; 0 is the house composition. Never sent to a vendor (the seed is).",
    )


class ImageResult(_Msg):
    path: Path
    provider: str
    cost_usd: float = 0.0
    provider_details: dict[str, Any] = Field(default_factory=dict)


def request_key(provider_id: str, payload: dict) -> str:
    """The identity of one paid request: provider and the exact payload (sha256, 32 hex characters). It
    names the request's journal entry and is sent as its idempotency key."""
    from storyreel.core.hashing import hash_value

    return hash_value({"provider": provider_id, "payload": payload}).removeprefix("sha256:")[:32]


class Received(_Msg):
    """A paid call's answer as the vendor sent it, before any decoding: ``data`` (image bytes), what it
    cost in USD and the details for provenance. ``from_journal`` marks an answer read back from the
    received journal instead of bought."""

    data: bytes
    more: list[bytes] = Field(default_factory=list, description="The other images of a native batch (``count`` > 1), in order.")
    cost_usd: float = 0.0
    details: dict[str, Any] = Field(default_factory=dict)
    media_type: str = "image/png"
    from_journal: bool = False
    stored: list[Path] = Field(default_factory=list, description="The journal's files holding ``data`` and ``more``, "
                               "in order, once saved: an image kept as received is linked from there, not written again.")


class JobState(str, Enum):
    """A vendor's asynchronous job (a prediction, a task, a queued request, an interaction) in storyreel's words, whatever
    the vendor calls it: each adapter maps its vendor's statuses here (``STATES``). ``moderated`` is a refusal on
    content — never retried in the run; ``failed`` and ``canceled`` ended without an output."""

    QUEUED = "queued"
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    MODERATED = "moderated"
    CANCELED = "canceled"

    @property
    def waiting(self) -> bool:
        return self in (JobState.QUEUED, JobState.RUNNING)


class JobLog(Protocol):
    """Where an asynchronous vendor's job ID is kept across crashes (the received journal)."""

    def job_id(self) -> str | None: ...

    def record_job(self, job_id: str) -> None: ...

    def attempted(self) -> bool:
        """True when this request went out at least once (the vendor may have its job without a recorded ID)."""
        ...

    def record_attempt(self) -> None:
        """Mark that the request is about to go out (the HTTP client calls it right before sending)."""
        ...


class VideoRequest(_Msg):
    """One motion clip to make from a shot's image (image to video): ``start`` (the shot's selected image) and,
    for models with an end frame, ``end``; ``duration_s`` is the length the shot needs (the provider picks the
    shortest length its model allows that is at least this long); ``width``/``height`` the project's frame."""

    shot_id: str
    prompt: str = Field(min_length=1, description="The motion prompt: camera move, subject action, pacing.")
    negative_prompt: str | None = None
    start: ReferenceImage
    end: ReferenceImage | None = None
    duration_s: float = Field(gt=0, le=60)
    width: int = Field(ge=64, le=8192)
    height: int = Field(ge=64, le=8192)
    seed: int = Field(default=0, ge=0)


class SpeechRequest(_Msg):
    text: str = Field(min_length=1)
    language: str
    voice: str | None = None
    words_per_minute: int = 165
    style: str | None = Field(default=None, description="How to speak, for voices that take instructions (others ignore it).")


class SpeechResult(_Msg):
    path: Path
    provider: str
    sample_rate: int
    duration_s: float
    words: list[WordTiming]
    cost_usd: float = 0.0
    provider_details: dict[str, Any] = Field(default_factory=dict)


class LlmResult(_Msg):
    """Text from an LLM step with its token usage (``input_tokens``, ``output_tokens``) and cost in USD."""

    text: str = Field(min_length=1)
    provider: str
    usage: dict[str, int] = Field(default_factory=dict)
    cost_usd: float = 0.0


@dataclass(frozen=True)
class Deduplication:
    """How a vendor makes a repeated paid request bill once — a capability a provider may claim only with the
    vendor's documentation of it (``source``, a URL, and when it was read).

    ``idempotency-key``: the vendor answers a repeated key with the first result and does not bill it again,
    so a create whose answer was lost may be sent again with the same key. ``adopt-by-listing``: the
    vendor keeps the jobs it made and lists them, so the adapter finds the one an earlier attempt created
    and adopts it instead of creating another (Replicate: ``GET /v1/predictions``)."""

    mechanism: Literal["idempotency-key", "adopt-by-listing"]
    source: str
    as_of: str


# ---------------------------------------------------------------------------------------- protocols
@runtime_checkable
class Capable(Protocol):
    """What every provider declares."""

    provider_id: str
    code_version: ClassVar[str]
    offline: ClassVar[bool]
    paid: ClassVar[bool]
    needs_key: ClassVar[bool]
    key_env_var: ClassVar[str | None]
    max_concurrency: ClassVar[int | None]
    deduplication: ClassVar[Deduplication | None]

    def identity(self) -> dict: ...

    def preflight(self, *, online: bool = False) -> None: ...


class ImageGenService(Capable, Protocol):
    """Seed 001 §3.1: ``generate(ImageRequest, out_path) -> ImageResult``; writes the PNG to ``out_path``."""

    max_candidates: ClassVar[int]
    accepts_reference_images: ClassVar[bool]
    client_caps_calls: ClassVar[bool]

    def estimate(self, request: ImageRequest) -> float: ...

    def payload(self, request: ImageRequest) -> dict: ...

    def generate(self, request: ImageRequest, out_path: Path) -> ImageResult: ...

    def fetch(self, request: ImageRequest, *, jobs: JobLog | None = None, key: str | None = None) -> Received: ...

    def finish(self, request: ImageRequest, received: Received, out_path: Path, *, fit: bool = True) -> ImageResult: ...

    def finish_batch(self, request: ImageRequest, received: Received, out_paths: list[Path], *, fit: bool = True) -> list[ImageResult]: ...


class LlmStep(Capable, Protocol):
    """An LLM used by a stage: renders a prompt template's sections and returns the model's text.
    ``runs_agents``: it also runs free-form agent calls (the prompt-enhancement agents); otherwise those
    steps use their offline rules."""

    runs_agents: ClassVar[bool]

    def estimate(self, template: Any, values: dict[str, Any]) -> float: ...

    def image_prompt(self, template: Any, values: dict[str, Any]) -> LlmResult: ...


class VideoService(Capable, Protocol):
    """An image-to-video vendor (``video`` modality), always paid: ``estimate`` (USD reserved), ``payload`` (the body
    whose hash names the call; images named by their hash), ``fetch`` (create, journal the job, poll, download:
    ``Received.data`` is the MP4 as the vendor made it) and ``duration_for`` (the clip length it will make)."""

    def estimate(self, request: VideoRequest) -> float: ...

    def payload(self, request: VideoRequest) -> dict: ...

    def duration_for(self, request: VideoRequest) -> float: ...

    def fetch(self, request: VideoRequest, *, jobs: JobLog | None = None, key: str | None = None) -> Received: ...


class SpeechService(Capable, Protocol):
    """A voice: ``synthesize(request, out_path)`` writes a 16-bit mono WAV and returns the word timings."""

    def synthesize(self, request: SpeechRequest, out_path: Path) -> SpeechResult: ...


class PaidSpeechService(SpeechService, Protocol):
    """A ``paid`` voice, bought through the paid-call protocol: ``estimate`` (USD reserved), ``payload`` (the
    body whose hash names the call), ``fetch`` (the paid part), ``finish`` (the WAV and timings)."""

    def estimate(self, request: SpeechRequest) -> float: ...

    def payload(self, request: SpeechRequest) -> dict: ...

    def fetch(self, request: SpeechRequest, *, jobs: JobLog | None = None, key: str | None = None) -> Received: ...

    def finish(self, request: SpeechRequest, received: Received, out_path: Path) -> SpeechResult: ...


class Scores(Protocol):
    """A scorer's verdict on one image: criteria 0–100 and ``total`` (a pydantic model)."""

    total: float

    def model_dump(self) -> dict[str, Any]: ...


class ImageScorer(Capable, Protocol):
    """The select stage's image scorer (``scorer`` modality, ``local:technical``): ``score(image, palette)``
    → scores with a ``total``, 0–100; ``kind`` names its scores in the shot's record."""

    kind: ClassVar[str]

    def score(self, image: Path, palette: list[str] | None = None) -> Scores: ...


class ConsistencyScorer(Capable, Protocol):
    """How much a candidate looks like the reference images of the entities its shot shows: ``{criterion: 0–100,
    "total": 0–100}``."""

    kind: ClassVar[str]

    def score(self, candidate: Path, references: list[Path]) -> dict[str, float]: ...


class Judge(Capable, Protocol):
    """The VLM judge (``judge`` modality): every candidate of a shot in one call. ``estimate(images)``: USD of
    judging that many images (candidates and references); ``judge(...)`` → (verdict, token usage, USD)."""

    kind: ClassVar[str]

    def estimate(self, images: int) -> float: ...

    def judge(self, candidates: list[Path], description: str, references: list[tuple[str, Path]] | None = None,
              *, model: Any = None) -> tuple[Any, dict[str, int], float]: ...


class Planner(Capable, Protocol):
    """Plans a script or prompt into a storyboard. ``last_usage`` holds the last call's tokens and cost."""

    last_usage: dict

    def estimate(self, request: PlannerRequest) -> float: ...

    def plan(self, request: PlannerRequest) -> Storyboard: ...


# ------------------------------------------------------------------------------------- base classes
class Provider:
    """Base of every provider: ``vendor:model`` id, the settings, capabilities as class attributes.

    A subclass names its default :class:`Connection` (``connection``); the registry can bind the same
    class to another vendor's connection (:meth:`bind`), which is how an OpenAI-compatible vendor is a
    configuration line rather than a module.
    """

    modality: ClassVar[str] = ""
    vendor: ClassVar[str] = ""
    code_version: ClassVar[str] = ""
    offline: ClassVar[bool] = False
    paid: ClassVar[bool] = True
    connection: ClassVar[Connection | None] = None
    needs_key: ClassVar[bool] = False
    key_env_var: ClassVar[str | None] = None
    max_concurrency: ClassVar[int | None] = None
    deduplication: ClassVar[Deduplication | None] = None

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if cls.connection is not None:
            cls.needs_key = cls.connection.key_required
            cls.key_env_var = cls.connection.key_env_var

    @property
    def prices(self) -> PriceTable:
        """The vendor's price table (its connection's; empty for a provider without one)."""
        return self.connection.prices if self.connection is not None else PriceTable()

    default_model: ClassVar[str] = ""

    def __init__(self, model: str | None = None, settings: Any = None) -> None:
        if settings is None and not self.offline:  # offline engines need no settings
            from storyreel.core.settings import Settings

            settings = Settings()
        model = model or self.default_model
        if not model:
            raise ValueError(f"{type(self).__name__}: a model name is required")
        self.model = model
        self.settings = settings
        self.provider_id = f"{self.vendor}:{model}"

    @classmethod
    def bind(cls, vendor: str, connection: Connection | None = None) -> type[Provider]:
        """This class as the provider of ``vendor`` (over ``connection`` when given)."""
        attrs: dict[str, Any] = {"vendor": vendor, "__module__": cls.__module__, "__qualname__": cls.__qualname__}
        if connection is not None:
            attrs["connection"] = connection
        return type(cls.__name__, (cls,), attrs)

    def identity(self) -> dict:
        """What changes the output (part of node keys): model and output-shaping parameters, never the
        key or the base URL."""
        return {"model": self.model}

    def preflight(self, *, online: bool = False) -> None:
        """Check, without a paid call, that the provider can be used as configured (key present, base
        URL set and allowed; ``online`` adds a free call where the vendor has one). Raises
        :class:`~storyreel.core.errors.ConfigError` naming the fix."""
        if self.connection is None:
            return
        from storyreel.providers.netguard import check_url

        self.connection.key(self.settings)
        if self.connection.over_http:
            check_url(self.connection.url(self.settings), self.settings.allow_network, self.provider_id)


class LocalProvider(Provider):
    """An offline engine: no key, no network, no price."""

    vendor: ClassVar[str] = "local"
    offline: ClassVar[bool] = True
    paid: ClassVar[bool] = False


class LlmProvider(Provider):
    """Base of LLM steps (free by default; paid vendors price their calls)."""

    modality: ClassVar[str] = "llm"
    runs_agents: ClassVar[bool] = False
    """True when the provider runs free-form agent calls (``run(instructions, user, output_type, …)``, e.g.
    the prompt-enhancement agents); otherwise those steps use their offline rules."""

    def identity(self) -> dict:
        return {"model": self.provider_id}

    def estimate(self, template: Any, values: dict[str, Any]) -> float:
        """Upper bound in USD of one ``image_prompt`` call (0 for free providers)."""
        return 0.0

    def token_estimate(self, input_chars: int, max_output_tokens: int) -> float:
        """Upper bound in USD of one call with ``input_chars`` of input and up to ``max_output_tokens`` out, at
        the model's rates in the vendor's price table (:func:`~storyreel.providers.prices.llm_estimate`)."""
        return llm_estimate(self.prices, self.model, input_chars, max_output_tokens)

    def token_cost(self, input_tokens: int, output_tokens: int) -> float:
        """USD of a call from its reported token usage (:func:`~storyreel.providers.prices.llm_cost`)."""
        return llm_cost(self.prices, self.model, input_tokens, output_tokens)


class ImageProvider(Provider):
    """Base of image providers. Offline engines keep the free defaults of ``estimate`` and ``payload``."""

    modality: ClassVar[str] = "image"
    max_candidates: ClassVar[int] = 1
    accepts_reference_images: ClassVar[bool] = False
    client_caps_calls: ClassVar[bool] = False
    """True when the provider's own client lets at most ``image_concurrency`` calls be in flight (the HTTP
    adapters): the image stage may then run more shots at once than that — the extra ones wait for a free
    slot, not for a worker, so a call starts the moment another's answer is in, while that one is still
    being decoded and saved."""

    def estimate(self, request: ImageRequest) -> float:
        """Price in USD of one call, reserved in the ledger before it runs (0 for free providers)."""
        return 0.0

    def payload(self, request: ImageRequest) -> dict:
        """What a call sends (``--dry-run`` writes it): the vendor's request body, or the request itself."""
        return request.model_dump(mode="json")

    def fetch(self, request: ImageRequest, *, jobs: JobLog | None = None, key: str | None = None) -> Received:
        """The paid part of a ``paid`` provider: send the request and return the vendor's answer undecoded
        (``key``: the request's identity, its idempotency key where the vendor has one; ``jobs``: keeps an
        asynchronous vendor's job ID across crashes). Raises
        :class:`~storyreel.providers.http.ProviderRejected`, ``MalformedResponse``,
        :class:`~storyreel.core.errors.UncertainCall` or ``ProviderError``. Free providers only ``generate``."""
        raise NotImplementedError(f"{type(self).__name__} is not a paid provider")

    def finish(self, request: ImageRequest, received: Received, out_path: Path, *, fit: bool = True) -> ImageResult:
        """Decode a fetched answer, cover-fit it to the exact size and write the PNG atomically (free, local).
        ``fit=False`` writes the image at the size the vendor drew it (a best-of-N candidate: only the
        selected one is fitted, by the ``select`` stage); ``provider_details["size"]`` is then its size."""
        from storyreel.providers.image.pixels import save_as_received, save_fitted

        details = {**received.details, **({"from_journal": True} if received.from_journal else {})}
        if fit:
            save_fitted(received.data, request.width, request.height, out_path)
        else:
            width, height = save_as_received(received.data, out_path, stored=received.stored[0] if received.stored else None)
            details["size"] = f"{width}x{height}"
        return ImageResult(path=out_path, provider=self.provider_id, cost_usd=received.cost_usd, provider_details=details)

    def finish_batch(self, request: ImageRequest, received: Received, out_paths: list[Path], *, fit: bool = True) -> list[ImageResult]:
        """:meth:`finish` for each image of a native batch's answer, in order, into ``out_paths`` (the answer may
        hold fewer images than asked: the results are as many as it has); the cost is shared equally."""
        from concurrent.futures import ThreadPoolExecutor

        images = [received.data, *received.more][: len(out_paths)]
        share = received.cost_usd / len(images)
        stored = received.stored if len(received.stored) == 1 + len(received.more) else []

        def one(item: tuple[int, bytes, Path]) -> ImageResult:
            position, data, out = item
            update = {"data": data, "more": [], "cost_usd": share, "stored": stored[position:position + 1]}
            return self.finish(request, received.model_copy(update=update), out, fit=fit)

        if not fit:  # written as received: no pixel work to spread
            return [one(item) for item in zip(range(len(images)), images, out_paths, strict=False)]
        with ThreadPoolExecutor(max_workers=min(4, len(images)), thread_name_prefix="sr-finish") as pool:  # decode/resize/encode release the GIL
            return list(pool.map(one, zip(range(len(images)), images, out_paths, strict=False)))

    def generate(self, request: ImageRequest, out_path: Path) -> ImageResult:
        """:meth:`fetch` then :meth:`finish` (offline engines draw directly and override this)."""
        return self.finish(request, self.fetch(request, key=request_key(self.provider_id, self.payload(request))), out_path)



class HttpProvider(Provider):
    """The HTTP half of a vendor adapter (image or speech) that speaks JSON: the client comes from the
    connection, lazily (no key is needed until the first call). ``classify`` turns a vendor's error response
    into a rejection; ``timeout_s`` overrides the per-request timeout; :meth:`create` sends a paid create."""

    def __init__(self, model: str | None = None, settings: Any = None) -> None:
        super().__init__(model, settings)
        self._http: Any = None
        self._http_lock = threading.Lock()

    def classify(self, response: Any) -> Any:
        """A :class:`~storyreel.providers.http.ProviderRejected` for a content rejection, else None."""
        return None

    def timeout_s(self) -> float | None:
        return None

    preflight_path: ClassVar[str | None] = None
    """A free GET under the base URL (``{model}`` filled in) that answers 401/403 to a bad key and 404 to
    an unknown model; None when the vendor has none."""

    def preflight(self, *, online: bool = False) -> None:
        """The offline checks (key present, base URL allowed), then with ``online`` one free GET of
        :attr:`preflight_path`: 401/403 → the key was refused, 404 → no such model, unreachable → the base
        URL is wrong; anything else (5xx, a timeout) does not decide. Raises :class:`ConfigError`."""
        super().preflight()
        if not online or self.preflight_path is None:
            return
        from storyreel.core.errors import ConfigError

        status = self.http.probe(self.preflight_path.format(model=self.model))
        var = self.key_env_var or "the API key"
        if status in (401, 403):
            raise ConfigError(f"{self.provider_id}: the API key was refused (HTTP {status})", hint=f"set a valid {var}")
        if status == 404:
            raise ConfigError(f"{self.provider_id}: the vendor knows no model {self.model!r} (HTTP 404)",
                              hint="check the model name after the colon")

    idempotency_header: ClassVar[str | None] = None
    """The header an idempotency key is sent in (e.g. ``Idempotency-Key``, which OpenAI's own SDK sends on
    retries). Sending it is harmless; it makes a create safe to repeat only when the vendor documents
    deduplication by it (:attr:`deduplication` with mechanism ``idempotency-key``)."""

    def idempotency(self, key: str | None) -> dict[str, str]:
        """The idempotency header for request ``key`` (empty when the adapter sends none)."""
        return {self.idempotency_header: f"storyreel-{key}"} if key and self.idempotency_header else {}

    def create(self, path: str, payload: dict[str, Any], *, jobs: JobLog | None, key: str | None = None,
               files: list[tuple[str, tuple[str, bytes, str]]] | None = None,
               answer_headers: dict[str, str] | None = None) -> dict[str, Any]:
        """``POST path`` — a paid create, sent the way every paid create is: with the idempotency header for
        ``key`` (when the adapter has one), repeated after a lost answer only when the vendor documents
        deduplication by it (:attr:`repeatable_create`), and marked in the received journal (``jobs``) just
        before it goes out, so a run that dies after that counts it as uncertain spend rather than as never
        sent. Raises what :meth:`~storyreel.providers.http.JsonHttp.request` raises."""
        return self.http.request("POST", path, payload, headers=self.idempotency(key), idempotent=self.repeatable_create, files=files,
                                 sending=jobs.record_attempt if jobs is not None else None, answer_headers=answer_headers)

    @property
    def repeatable_create(self) -> bool:
        """Whether a create whose answer was lost may be sent again: only when the vendor documents that a
        repeated idempotency key is answered with the first result and billed once."""
        return self.deduplication is not None and self.deduplication.mechanism == "idempotency-key"

    @property
    def http(self) -> Any:
        """The vendor's :class:`~storyreel.providers.http.JsonHttp` client, made once (under a lock: the image
        stage's workers reach it together, and a client each would each have its own cap on calls in flight)."""
        if self._http is None:
            with self._http_lock:
                if self._http is None:
                    assert self.connection is not None, f"{type(self).__name__} declares no connection"
                    self._http = self.connection.client(self.settings, classify=self.classify, timeout_s=self.timeout_s())
        return self._http


class HttpImageProvider(HttpProvider, ImageProvider):
    """Base of image adapters that speak JSON over HTTP (:class:`HttpProvider`)."""

    client_caps_calls: ClassVar[bool] = True
