"""The paid-call protocol every stage that buys from a vendor follows — images and references today, video
clips and voices next (docs/architecture.md "Paid calls"):

1. journal — an answer to this request already in the project's received journal is used as it is: a run that
   stopped before recording it bought it, and its cost is in the ledger;
2. reserve — otherwise the estimate is reserved against the cap (:func:`storyreel.store.ledger.hold`);
3. call — the provider's paid part (``fetch``), with the request's key (a resumed attempt repeats it, a
   forced one gets a new one) and the journal as its job log (an asynchronous vendor's job ID is kept there);
4. record — the answer's bytes are journaled before anything else can fail, then its cost is committed. A
   vendor that bills one request once (:attr:`~storyreel.providers.base.Provider.deduplication`) settles the
   uncertain entries of earlier lost attempts of the same request; any other vendor leaves them counted;
5. decode — the caller's decoding of the answer; an answer that does not decode is dropped from the journal,
   so the next run asks again instead of reading it back.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

from storyreel.core.errors import MalformedResponse
from storyreel.providers.base import Capable, ImageGenService, ImageRequest, ImageResult, JobLog, Received
from storyreel.stages.context import ProjectContext
from storyreel.store.journal import CallJournal
from storyreel.store.ledger import hold

T = TypeVar("T")


def purchase(ctx: ProjectContext, *, node: str, provider: Capable, key: str, estimate: Callable[[], float],
             fetch: Callable[[JobLog, str], Received], decode: Callable[[Received], T]) -> T:
    """Buy the answer to request ``key`` for ``node`` from ``provider`` once, and decode it.

    ``estimate()``: USD reserved before the call; ``fetch(jobs, attempt_key)``: the paid call (raises
    :class:`~storyreel.core.errors.ProviderRejected`, :class:`~storyreel.core.errors.UncertainCall` — the
    reservation is then kept as uncertain —, ``MalformedResponse`` or ``ProviderError``);
    ``decode(received)``: the answer made into the caller's result. Raises
    :class:`~storyreel.core.errors.CostLimitReached` (nothing sent) when the estimate does not fit under the cap."""
    journal = CallJournal(ctx.paths, key)
    received = journal.load()
    if received is None:
        with hold(ctx.ledger, node, provider.provider_id, estimate, paid=True, request_key=key) as held:
            attempt = f"{key}-{ctx.ledger.purchases(key) if ctx.ledger else 0}"  # the same on resume, a new one after a purchase
            received = journal.save(fetch(journal, attempt))
            held.commit(received.cost_usd)
        if provider.deduplication is not None and ctx.ledger is not None:
            ctx.ledger.settle_uncertain(key)  # an earlier lost attempt of this request was this purchase
    try:
        return decode(received)
    except MalformedResponse:
        journal.discard()  # a paid answer that does not decode: the next run asks again instead of re-reading it
        raise


def image_purchase(ctx: ProjectContext, node: str, provider: ImageGenService, request: ImageRequest, key: str, outs: list[Path], *,
                   fit: bool = True) -> list[ImageResult]:
    """:func:`purchase` of images: ``request`` (an :class:`~storyreel.providers.base.ImageRequest`) to an image
    provider; one :class:`~storyreel.providers.base.ImageResult` per image written into ``outs`` (a native
    batch's answer may hold fewer), fitted to the request's size or, with ``fit=False``, at the size the
    vendor drew them."""

    def decode(received: Received) -> list[ImageResult]:
        if len(outs) == 1:
            return [provider.finish(request, received, outs[0], fit=fit)]
        return provider.finish_batch(request, received, outs, fit=fit)

    return purchase(ctx, node=node, provider=provider, key=key, estimate=lambda: provider.estimate(request),
                    fetch=lambda jobs, attempt: provider.fetch(request, jobs=jobs, key=attempt), decode=decode)


def one_image(ctx: ProjectContext, node: str, provider: ImageGenService, request: ImageRequest, out: Path) -> ImageResult:
    """One image into ``out`` from ``provider`` — bought (:func:`image_purchase`) when it is paid, drawn when it is free —
    and, when it fails (but not after a lost answer: that call may have been made), from the project's fallback image
    provider (``image_fallback``, seed 003), whose result's ``provider_details`` then carry ``fallback_from``. Raises the
    provider's error when there is no fallback or it fails too."""
    from storyreel.core.errors import ProviderError, UncertainCall
    from storyreel.providers.base import request_key

    def make(p: ImageGenService, r: ImageRequest) -> ImageResult:
        if p.paid:
            return image_purchase(ctx, node, p, r, request_key(p.provider_id, p.payload(r)), [out])[0]
        return p.generate(r, out)

    try:
        return make(provider, request)
    except UncertainCall:
        raise
    except ProviderError as exc:
        fallback = ctx.fallback_image_provider
        if fallback is None or fallback.provider_id == provider.provider_id:
            raise
        asked = request if fallback.accepts_reference_images else request.model_copy(update={"references": []})
        result = make(fallback, asked)
        result.provider_details["fallback_from"] = str(exc)[:300]
        return result


def one_image_recipe(ctx: ProjectContext, request: ImageRequest):  # noqa: ANN201 - RecipeParts
    """The node key's parts of an image made by :func:`one_image` with the project's image provider: exactly what is
    sent (the provider's payload) and the provider's identity."""
    from storyreel.engine.graph import RecipeParts

    provider = ctx.image_provider
    return RecipeParts(provider=f"{provider.provider_id}@{provider.code_version}",
                       params={"payload": provider.payload(request), "provider": provider.identity()})
