"""What loading gives: one file's `LoadResult`, a `LoadedQuestionnaire`, and the `Registry` of
the questionnaires loaded from a folder, by (id, version)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from service.questionnaire.engine import Program
from service.questionnaire.schema import Questionnaire
from service.questionnaire.source import Problem
from service.questionnaire.versions import version_key


@dataclass(frozen=True)
class LoadedQuestionnaire:
    """A questionnaire as loaded: the model, the SHA-256 of its file and its compiled program."""

    model: Questionnaire
    sha256: str
    program: Program


@dataclass
class LoadResult:
    """One file loaded: the questionnaire (None when a problem is an error) and every problem."""

    file: str
    questionnaire: Questionnaire | None
    sha256: str
    problems: list[Problem] = field(default_factory=list)
    program: Program | None = None

    @property
    def errors(self) -> list[Problem]:
        return [p for p in self.problems if p.level == "error"]

    @property
    def warnings(self) -> list[Problem]:
        return [p for p in self.problems if p.level == "warning"]

    @property
    def ok(self) -> bool:
        return self.questionnaire is not None and not self.errors

    @property
    def loaded(self) -> LoadedQuestionnaire | None:
        if self.questionnaire is None or self.program is None or self.errors:
            return None
        return LoadedQuestionnaire(self.questionnaire, self.sha256, self.program)


class Registry:
    """The questionnaires loaded from a folder, by (id, version).

    `loaded` and `entries` give `LoadedQuestionnaire`s; `get`, `all` and `latest` give the
    models, which is what most callers hold (their `sha256` is the file's, too).
    """

    def __init__(self, results: Iterable[LoadResult]) -> None:
        self.results = list(results)
        self._by_key: dict[tuple[str, str], LoadedQuestionnaire] = {}
        for r in self.results:
            loaded = r.loaded
            if loaded is not None:
                self._by_key[(loaded.model.id, loaded.model.version)] = loaded

    def loaded(self, questionnaire_id: str, version: str) -> LoadedQuestionnaire | None:
        return self._by_key.get((questionnaire_id, version))

    def entries(self) -> list[LoadedQuestionnaire]:
        return list(self._by_key.values())

    def get(self, questionnaire_id: str, version: str) -> Questionnaire | None:
        found = self._by_key.get((questionnaire_id, version))
        return found.model if found else None

    def all(self) -> list[Questionnaire]:
        return [e.model for e in self._by_key.values()]

    def latest(self, questionnaire_id: str) -> Questionnaire | None:
        """The newest version (`versions.version_key`); of two equal versions such as 1.0 and
        1.0.0, the one whose text sorts last, so the answer never depends on file order."""
        versions = [e.model for (qid, _), e in self._by_key.items() if qid == questionnaire_id]
        if not versions:
            return None
        return max(versions, key=lambda q: (version_key(q.version), q.version))
