"""Artifact schemas, as in Spyral: JSON describing what a phase reads and writes."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class ArtifactSchema:
    """One artifact of a phase result.

    Parameters
    ----------
    extension : str
        File extension of the artifact, with the dot (``".h5"``).
    data : Any
        Free description of the artifact's content; compared for equality only.
    """

    extension: str
    data: Any


class ResultSchema:
    """The artifacts a phase expects or produces, parsed from JSON.

    The JSON maps an artifact key to ``{"extension": str, "data": any}``. Two schemas are equal
    when their artifact dictionaries are equal, exactly as in Spyral.

    Parameters
    ----------
    json_string : str, optional
        The schema as a JSON string.
    json_file : Path, optional
        A file holding the schema as JSON. Used when ``json_string`` is None.
    """

    def __init__(self, json_string: str | None = None, json_file: Path | None = None) -> None:
        self.artifacts: dict[str, ArtifactSchema] = {}
        if json_string is not None:
            text = json_string
        elif json_file is not None:
            text = Path(json_file).read_text()
        else:
            return
        for key, entry in json.loads(text).items():
            self.artifacts[key] = ArtifactSchema(extension=entry["extension"], data=entry["data"])

    def __eq__(self, other: object) -> bool:
        if not hasattr(other, "artifacts"):
            return NotImplemented
        return _as_plain(self.artifacts) == _as_plain(other.artifacts)

    def __hash__(self) -> int:
        return hash(json.dumps(_as_plain(self.artifacts), sort_keys=True))

    def __repr__(self) -> str:
        return f"ResultSchema({json.dumps(_as_plain(self.artifacts), sort_keys=True)})"


def _as_plain(artifacts: dict[str, Any]) -> dict[str, Any]:
    """Schema artifacts as plain dicts, so a Spyral schema and ours compare equal."""
    return {
        key: {"extension": value.extension, "data": value.data} for key, value in artifacts.items()
    }


def same_content(first: Any, second: Any) -> bool:
    """Whether two schemas (ours, Spyral's or None) describe the same artifacts.

    Spyral's ``ResultSchema`` only equals instances of its own class, so a chain mixing Spyral
    phases and ours is compared by content.
    """
    if first is None or second is None:
        return first is second
    return _as_plain(first.artifacts) == _as_plain(second.artifacts)


def describe(schema: Any) -> str:
    """A schema as readable JSON, whichever class it is."""
    if schema is None:
        return "anything (no schema)"
    return json.dumps(_as_plain(schema.artifacts), sort_keys=True)
