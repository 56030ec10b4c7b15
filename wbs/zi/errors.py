"""Errors of the ZI engine: each names the code it is about."""

from __future__ import annotations

from wbs.core.errors import DomainError, NotFound, ValidationFailed
from wbs.core.text import Text


class RuleSetError(DomainError):
    """A rule file that does not hold together (raised on load, never at request time)."""

    status, code = 500, "zi_rules_invalid"
    message_id = "Berkas aturan LKE tidak valid."
    message_en = "The LKE rule file is not valid."

    def __init__(self, rules: str, problems: list[tuple[str, str]]) -> None:
        self.rules = rules
        self.problems = problems
        lines = "; ".join(f"{code}: {problem}" for code, problem in problems)
        super().__init__(
            f"Berkas aturan {rules} tidak valid: {lines}",
            f"Rule file {rules} is not valid: {lines}",
            details={"rules": rules, "problems": [list(p) for p in problems]},
        )


class UnknownRuleSet(NotFound):
    code = "zi_rules_unknown"

    def __init__(self, rules: str) -> None:
        super().__init__(
            f"Aturan LKE '{rules}' tidak dikenal.",
            f"Unknown LKE rule set '{rules}'.",
            details={"rules": rules},
        )


class AnswerError(ValidationFailed):
    """A malformed answer; `item` names the code (or the file position) at fault."""

    code = "zi_answer_invalid"

    def __init__(self, item: str, problem: Text) -> None:
        self.item = item
        super().__init__(
            f"{item}: {problem.id}",
            f"{item}: {problem.en}",
            details={"code": item},
        )
