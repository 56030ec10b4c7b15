"""workflows/status.yaml states the status machine the service enforces today."""

from pathlib import Path

import yaml

from wbs.reporting.models import STATUS_LABELS, TRANSITIONS, CaseStatus

WORKFLOW = Path(__file__).resolve().parent.parent / "workflows" / "status.yaml"


def test_status_workflow_data_equals_the_code():
    data = yaml.safe_load(WORKFLOW.read_text())
    assert data["initial"] == CaseStatus.diterima.value
    assert set(data["states"]) == {s.value for s in CaseStatus}
    for status, (indonesian, english) in STATUS_LABELS.items():
        state = data["states"][status.value]
        assert (state["id"], state["en"]) == (indonesian, english)
        assert bool(state.get("final")) == (not TRANSITIONS[status])
    pairs = {(t["from"], t["to"]) for t in data["transitions"]}
    assert pairs == {(a.value, b.value) for a, nexts in TRANSITIONS.items() for b in nexts}
