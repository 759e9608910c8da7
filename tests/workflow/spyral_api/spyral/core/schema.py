import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any


@dataclass
class PhaseResult:
    artifacts: dict[str, Path]
    successful: bool
    run_number: int

    @staticmethod
    def invalid_result(run_number: int) -> "PhaseResult":
        return PhaseResult(artifacts={}, successful=False, run_number=run_number)


@dataclass
class ArtifactSchema:
    extension: str
    data: Any


class ResultSchema:
    def __init__(self, json_string: str | None = None, json_file: Path | None = None):
        self.artifacts: dict[str, ArtifactSchema] = {}
        if json_string is not None:
            text = json_string
        elif json_file is not None:
            text = Path(json_file).read_text()
        else:
            return
        for key, value in json.loads(text).items():
            self.artifacts[key] = ArtifactSchema(value["extension"], value["data"])

    def __eq__(self, other: object) -> bool:
        return isinstance(other, ResultSchema) and self.artifacts == other.artifacts
