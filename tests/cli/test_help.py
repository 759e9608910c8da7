"""``spyralflow --help`` and each command's help read well for users."""

from __future__ import annotations

import argparse
import subprocess
import sys

import pytest

from spyralflow.cli import JOB_SIDE, build_parser

USER_COMMANDS = ["rules", "why", "status"]
JOB_COMMANDS = ["run-phase", "create-assets", "simulate", "summary", "spectrum"]
DEVELOPER_WORDS = ("``", "::", "import", "Module-level", "docstring")


def _commands(parser: argparse.ArgumentParser) -> argparse._SubParsersAction:
    (action,) = (a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    return action


def _subparsers(parser: argparse.ArgumentParser) -> dict[str, argparse.ArgumentParser]:
    return dict(_commands(parser).choices)


def _help(*arguments: str) -> str:
    completed = subprocess.run(
        [sys.executable, "-m", "spyralflow.cli", *arguments, "--help"],
        capture_output=True,
        text=True,
        check=True,
    )
    return completed.stdout


def test_user_commands_come_first_and_job_commands_are_marked() -> None:
    text = _help()
    listed = [
        line.split()[0]
        for line in text.split("commands:")[1].splitlines()
        if line.startswith("    ") and not line.startswith("     ")
    ]
    assert listed == USER_COMMANDS + JOB_COMMANDS
    parser = build_parser()
    for choice in _commands(parser)._choices_actions:
        assert choice.help.startswith(JOB_SIDE) == (choice.dest in JOB_COMMANDS), choice.dest
        assert choice.help in " ".join(text.split()), choice.dest
        assert _subparsers(parser)[choice.dest].description, f"{choice.dest} has no description"


@pytest.mark.parametrize("command", [None, *USER_COMMANDS, *JOB_COMMANDS])
def test_help_has_no_markup_or_developer_notes(command: str | None) -> None:
    text = _help(*([command] if command else []))
    for word in DEVELOPER_WORDS:
        assert word not in text, f"{word!r} in `spyralflow {command or ''} --help`:\n{text}"


@pytest.mark.parametrize("command", USER_COMMANDS + JOB_COMMANDS)
def test_every_option_is_explained(command: str) -> None:
    parser = _subparsers(build_parser())[command]
    options = [action for action in parser._actions if action.option_strings]
    assert len(options) > 1
    for action in options:
        assert action.help and action.help != argparse.SUPPRESS, (
            f"spyralflow {command} {'/'.join(action.option_strings)} has no help text"
        )
