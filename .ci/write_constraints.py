"""Write constraints.txt: the exact installed versions of everything spyralflow needs.

Run after the tests passed: ``python .ci/write_constraints.py``. Walks the requirements of
spyralflow (with its ``test`` extra, and attpc_spyral for the Spyral comparisons) through the
installed distributions' metadata, so the file lists the closure and nothing else that happens
to be installed. Reinstall that set with ``pip install -c constraints.txt -e ".[test]"``.
"""

from __future__ import annotations

import importlib.metadata as metadata
import sys
from pathlib import Path

import tomllib
from packaging.markers import default_environment
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

REPOSITORY = Path(__file__).resolve().parents[1]
EXTRAS = ("test",)
ALSO = ("attpc_spyral",)  # the reference the comparison tests and benchmarks run against


def project_requirements() -> list[Requirement]:
    """spyralflow's dependencies and those of its extras named in ``EXTRAS``."""
    project = tomllib.loads((REPOSITORY / "pyproject.toml").read_text())["project"]
    texts = list(project["dependencies"])
    for extra in EXTRAS:
        texts += project["optional-dependencies"][extra]
    return [Requirement(text) for text in texts] + [Requirement(name) for name in ALSO]


def _applies(requirement: Requirement, extras: set[str]) -> bool:
    if requirement.marker is None:
        return True
    environment = default_environment()
    return any(
        requirement.marker.evaluate({**environment, "extra": extra}) for extra in extras or {""}
    )


def requirement_closure(roots: list[Requirement]) -> dict[str, str]:
    """Canonical name to installed version of every distribution the roots need."""
    pinned: dict[str, str] = {}
    pending = [(root, set(root.extras)) for root in roots]
    while pending:
        requirement, extras = pending.pop()
        name = canonicalize_name(requirement.name)
        if name in pinned:
            continue
        distribution = metadata.distribution(requirement.name)
        pinned[name] = distribution.version
        for text in distribution.requires or []:
            child = Requirement(text)
            if _applies(child, extras):
                pending.append((child, set(child.extras)))
    return pinned


def main() -> int:
    pinned = requirement_closure(project_requirements())
    pinned.pop("spyralflow", None)
    header = (
        "# The exact versions the test suite passed with (Python "
        f"{sys.version_info.major}.{sys.version_info.minor}), written by "
        ".ci/write_constraints.py.\n"
        '# Install with: pip install -c constraints.txt -e ".[test]"\n'
    )
    lines = [f"{name}=={version}" for name, version in sorted(pinned.items())]
    (REPOSITORY / "constraints.txt").write_text(header + "\n".join(lines) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
