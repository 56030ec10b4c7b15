"""The workflows of every case type, loaded once from `workflows/` and validated."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from wbs.units.models import CaseType
from wbs.workflow.definition import Workflow, WorkflowError, load_file

# The repository's workflows/ folder; a deployment may point WBS_WORKFLOWS_DIR elsewhere.
DEFAULT_DIR = Path(__file__).resolve().parents[2] / "workflows"


@dataclass(frozen=True)
class Workflows:
    by_type: Mapping[str, Workflow]

    def of(self, case_type: str) -> Workflow:
        return self.by_type[str(case_type)]


def load_all(directory: Path | None = None) -> Workflows:
    """One workflow per case type, from `<directory>/<case type>.yaml`; refuse any problem."""
    directory = directory or DEFAULT_DIR
    found: dict[str, Workflow] = {}
    for case_type in CaseType:
        path = directory / f"{case_type.value}.yaml"
        if not path.is_file():
            raise WorkflowError(path.name, "file", f"missing in {directory}")
        workflow = load_file(path)
        if workflow.case_type != case_type.value:
            raise WorkflowError(
                path.name, "case_type", f"is {workflow.case_type!r}, expected {case_type.value!r}"
            )
        found[case_type.value] = workflow
    return Workflows(found)
