"""The Snakemake files and the generated rules pass ``snakefmt --check`` (pyproject's settings)."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import black
import pytest
from workflow_runner import HERE, REPOSITORY, toy_config

from spyralflow.framework.config import load_config, parse_config
from spyralflow.generator import CONDA_ENV_FILE, SCHEMA_FILE
from spyralflow.generator.plan import build_plan
from spyralflow.generator.render import _literal, render_plan

SCHEMA = REPOSITORY / "workflow" / SCHEMA_FILE
CONDA_ENV = f"../workflow/{CONDA_ENV_FILE}"
# A workspace with a space and both quote kinds: its paths need escapes in either quoting.
AWKWARD_WORKSPACE = """it's a "ws" """.strip()


def _snakefmt_check(*paths: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "snakefmt",
            "--config",
            str(REPOSITORY / "pyproject.toml"),
            "--check",
            "--diff",
            *map(str, paths),
        ],
        capture_output=True,
        text=True,
        check=False,
        cwd=REPOSITORY,
    )


def test_snakefile_and_rule_files_are_snakefmt_clean() -> None:
    files = [REPOSITORY / "Snakefile", *sorted((REPOSITORY / "workflow" / "rules").glob("*.smk"))]
    assert len(files) >= 4
    result = _snakefmt_check(*files)
    assert result.returncode == 0, result.stdout + result.stderr


def test_generated_rules_of_the_shipped_config_are_snakefmt_clean(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(REPOSITORY)
    plan = build_plan(load_config(Path("config/config.yaml"), SCHEMA), conda_env=CONDA_ENV)
    text = render_plan(plan)
    assert text.count("\nrule ") == 2 * len(plan.phases)
    assert text.count(f'conda:\n        "{CONDA_ENV}"') == 2 * len(plan.phases)
    rules = tmp_path / "shipped.smk"
    rules.write_text(text)
    result = _snakefmt_check(rules)
    assert result.returncode == 0, result.stdout + result.stderr


def test_generated_rules_with_quotes_in_paths_are_snakefmt_clean(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.syspath_prepend(str(HERE))
    config = parse_config(toy_config(workspace=AWKWARD_WORKSPACE), SCHEMA)
    text = render_plan(build_plan(config, conda_env=CONDA_ENV))
    assert f"values={_literal(AWKWARD_WORKSPACE + '/Load/run_{run}.h5')}," in text
    rules = tmp_path / "awkward.smk"
    rules.write_text(text)
    result = _snakefmt_check(rules)
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize(
    "value",
    [
        "plain",
        "it's",
        'say "hi"',
        """both ' and " """,
        """two '' and one " """,
        "\\d\\d\\d\\d+",
        "back\\slash 'and' quote",
        '{"a":{"b":1}}',
        "tab\tand newline\n",
        "ünïcode",
        3,
        2.5,
        None,
    ],
)
def test_literal_is_valid_python_in_black_style(value: object) -> None:
    line = f"x = {_literal(value)}\n"
    assert ast.literal_eval(_literal(value)) == value
    assert black.format_str(line, mode=black.Mode(line_length=100)) == line
