"""``cost``: what a project's paid provider calls cost, against its cap."""

from __future__ import annotations

from storyreel.api.project import load_project, open_store, project_settings, settings_for
from storyreel.api.requests import ProjectRequest
from storyreel.api.results import CostReport
from storyreel.store.ledger import CostLedger


def cost(request: ProjectRequest | None = None, **fields: object) -> CostReport:
    """The ledger's summary and each paid node's committed cost. Raises
    :class:`~storyreel.core.errors.InputError` for an unknown project."""
    request = request or ProjectRequest.build(**fields)
    settings = settings_for(request.workspace)
    load_project(request.project, settings)
    store = open_store(settings)
    ledger = CostLedger(store.sessions, request.project, project_settings(settings, request.project).max_cost_usd)
    summary = ledger.summary()
    uncertain = [{"node": e.node, "provider": e.provider, "estimate_usd": e.estimate_usd, "why": e.note}
                 for e in ledger.uncertain_entries()]
    nodes = [
        {"node": f"{r.stage}[{r.unit}]", "provider": r.provider, "cost_usd": r.cost_usd, "finished_at": r.finished_at.isoformat()}
        for r in store.latest_success(request.project).values() if r.cost_usd
    ]
    return CostReport(
        project_id=request.project, cap_usd=summary.cap_usd, spent_usd=summary.committed_usd, reserved_usd=summary.reserved_usd,
        remaining_usd=summary.remaining_usd, calls=summary.calls, by_provider=summary.by_provider,
        nodes=sorted(nodes, key=lambda r: r["node"]), uncertain_calls=summary.uncertain_calls,
        uncertain_usd=summary.uncertain_usd, uncertain=uncertain,
    )
