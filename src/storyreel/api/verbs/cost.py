"""``cost``: what a project's paid provider calls cost, against its cap — committed, reserved and the calls
of unknown outcome (*uncertain*), which count at their estimate."""

from __future__ import annotations

from storyreel.api.requests import ProjectRequest
from storyreel.api.results import CostReport
from storyreel.api.session import Workspace


def cost(request: ProjectRequest | None = None, **fields: object) -> CostReport:
    """The ledger's summary and each paid node's committed cost. Raises
    :class:`~storyreel.core.errors.InputError` for an unknown project."""
    request = request or ProjectRequest.build(**fields)
    project = Workspace.open(request.workspace).existing(request.project)
    ledger = project.ledger
    summary = ledger.summary()
    uncertain = [{"node": e.node, "provider": e.provider, "estimate_usd": e.estimate_usd, "why": e.note}
                 for e in ledger.uncertain_entries()]
    nodes = [
        {"node": f"{r.stage}[{r.unit}]", "provider": r.provider, "cost_usd": r.cost_usd, "finished_at": r.finished_at.isoformat()}
        for r in project.store.latest_success(project.id).values() if r.cost_usd
    ]
    return CostReport(
        project_id=project.id, cap_usd=summary.cap_usd, spent_usd=summary.committed_usd, reserved_usd=summary.reserved_usd,
        remaining_usd=summary.remaining_usd, calls=summary.calls, by_provider=summary.by_provider,
        nodes=sorted(nodes, key=lambda r: r["node"]), uncertain_calls=summary.uncertain_calls,
        uncertain_usd=summary.uncertain_usd, uncertain=uncertain,
    )
