"""The ``spyralflow`` command: user helpers, and the job commands the workflow's rules call.

User commands come first in ``--help``; the job-side ones say that the workflow calls them.
Heavy imports happen inside the subcommands, so ``spyralflow --help`` stays fast.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

from spyralflow import __version__

EXIT_FAILURE = 1
DESCRIPTION = """\
spyralflow: the AT-TPC analysis pipeline (Spyral's phases) as a Snakemake workflow.

Run the pipeline with snakemake, from the folder holding config/config.yaml:
  snakemake --cores 2        run what is missing or out of date
  snakemake -n               list the jobs that would run
  spyralflow why             which phase parameters or code changed since the last run
  spyralflow status          every run's phase, running jobs' progress, failures

The job commands below are what the workflow's rules call; you do not need them by hand.
"""
JOB_SIDE = "(called by the workflow) "
# Subcommands of other modules, in the order --help lists them: user commands (rules, why,
# then these) before the job-side commands.
USER_COMMAND_MODULES: tuple[str, ...] = ("spyralflow.status",)
JOB_COMMAND_MODULES = (
    "spyralflow.simulation.cli",
    "spyralflow.summary.cli",
    "spyralflow.spectrum.cli",
)


def _key_value(text: str) -> tuple[str, Path]:
    key, separator, value = text.partition("=")
    if not separator or not key:
        raise argparse.ArgumentTypeError(f"expected KEY=PATH, got '{text}'")
    return key, Path(value)


def _add_phase_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--phase-class", required=True, help="dotted path of the phase class")
    parser.add_argument("--parameters", required=True, help="phase parameters as JSON")
    parser.add_argument("--code-hash", default="", help="content hash of the phase's code")
    parser.add_argument(
        "--workspace", required=True, type=Path, help="the config's workspace folder"
    )
    parser.add_argument(
        "--seed",
        type=int,
        default=0,
        help="the config's global seed (each run and phase gets its own stream from it)",
    )
    parser.add_argument(
        "--threads", type=int, default=None, help="threads the job may use (the rule's threads)"
    )


THREAD_VARIABLES = (
    "OMP_NUM_THREADS",
    "OPENBLAS_NUM_THREADS",
    "MKL_NUM_THREADS",
    "VECLIB_MAXIMUM_THREADS",
    "NUMEXPR_NUM_THREADS",
    "NUMBA_NUM_THREADS",
    "POLARS_MAX_THREADS",
    "SPYRALFLOW_THREADS",
)


def use_numba_cache_of(arguments: argparse.Namespace) -> None:
    """Keep compiled numba kernels in the machine-wide cache of the phase's code hash.

    See ``spyralflow.framework.kernels``; set ``SPYRALFLOW_CACHE_DIR`` to move it.
    """
    from spyralflow.framework.kernels import prepare_numba

    own_phase = getattr(arguments, "phase_class", "spyralflow.").startswith("spyralflow.")
    prepare_numba(getattr(arguments, "code_hash", ""), own_phase)


def limit_threads(threads: int) -> None:
    """Keep numerical libraries within the job's threads (set before they are imported).

    A job oversubscribing its cores slows every other job on the node; Spyral asks users to set
    these by hand. ``SPYRALFLOW_THREADS`` tells phases how many workers they may start.
    """
    for variable in THREAD_VARIABLES:
        os.environ[variable] = str(threads)


def _phase_job(arguments: argparse.Namespace):
    from spyralflow.framework.job import PhaseJob

    return PhaseJob(
        class_path=arguments.phase_class,
        parameters=json.loads(arguments.parameters),
        code_hash=arguments.code_hash,
        workspace=arguments.workspace,
        seed=arguments.seed,
        lineage=getattr(arguments, "lineage", ""),
        input_lineages=json.loads(getattr(arguments, "input_lineage", "{}")),
    )


def _run_phase(arguments: argparse.Namespace) -> None:
    from spyralflow.framework.job import run_phase

    run_phase(
        _phase_job(arguments),
        run=int(arguments.run),
        incoming=dict(arguments.incoming),
        expected_outputs=dict(arguments.output),
    )


def _create_assets(arguments: argparse.Namespace) -> None:
    from spyralflow.framework.job import create_assets

    create_assets(_phase_job(arguments), arguments.manifest)


def _print_rules(arguments: argparse.Namespace) -> None:
    from spyralflow.generator import render_rules

    sys.stdout.write(render_rules(arguments.configfile, arguments.schema))


def _explain_changes(arguments: argparse.Namespace) -> None:
    from spyralflow.framework.config import load_config
    from spyralflow.generator.plan import build_plan
    from spyralflow.generator.why import (
        METADATA_FOLDER,
        explain,
        pipeline_steps,
        read_records,
        step_reasons,
    )

    config = load_config(arguments.configfile, arguments.schema)
    steps = pipeline_steps(config, build_plan(config))
    records = read_records(arguments.metadata or METADATA_FOLDER)
    sys.stdout.write(explain(step_reasons(steps, records, Path.cwd())))


def _add_config_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--configfile",
        type=Path,
        default=Path("config/config.yaml"),
        help="the pipeline config (default: %(default)s)",
    )
    parser.add_argument(
        "--schema",
        type=Path,
        default=Path("workflow/schemas/config.schema.yaml"),
        help="the config schema shipped with the workflow (default: %(default)s)",
    )


def _register_user_commands(subparsers: argparse._SubParsersAction) -> None:
    rules = subparsers.add_parser(
        "rules",
        help="print the Snakemake rules the config gives",
        description="Print the Snakemake rules that the config generates (what the Snakefile "
        "includes), one per phase and one per one-time asset.",
    )
    _add_config_arguments(rules)
    rules.set_defaults(handler=_print_rules)

    why = subparsers.add_parser(
        "why",
        help="which parameters, code or seed changed since each phase last ran",
        description="For each phase, which parameter keys, code hash or seed differ between "
        "the config now and the jobs that made the existing outputs (from Snakemake's "
        "metadata records), e.g. 'Cluster: cluster_params.min_cloud_size 50 -> 60'. Run it "
        "where you run snakemake.",
    )
    _add_config_arguments(why)
    why.add_argument(
        "--metadata",
        type=Path,
        default=None,
        help="Snakemake's metadata records (default: .snakemake/metadata)",
    )
    why.set_defaults(handler=_explain_changes)


def _register_job_commands(subparsers: argparse._SubParsersAction) -> None:
    run = subparsers.add_parser(
        "run-phase",
        help=JOB_SIDE + "run one phase on one run",
        description="Run one phase on one run: what each per-run rule's job does.",
    )
    _add_phase_arguments(run)
    run.add_argument("--run", required=True, help="run number (e.g. 0003)")
    run.add_argument("--lineage", default="", help="this phase's lineage digest (provenance)")
    run.add_argument(
        "--input-lineage",
        default="{}",
        help="JSON: incoming artifact key to the lineage its file must carry",
    )
    run.add_argument(
        "--incoming",
        type=_key_value,
        action="append",
        default=[],
        metavar="KEY=PATH",
        help="an upstream artifact (repeatable)",
    )
    run.add_argument(
        "--output",
        type=_key_value,
        action="append",
        default=[],
        metavar="KEY=PATH",
        help="an artifact this job must write (repeatable)",
    )
    run.set_defaults(handler=_run_phase)

    assets = subparsers.add_parser(
        "create-assets",
        help=JOB_SIDE + "build one phase's one-time assets",
        description="Build one phase's one-time assets: what each asset rule's job does.",
    )
    _add_phase_arguments(assets)
    assets.add_argument(
        "--manifest",
        required=True,
        type=Path,
        help="manifest file written when the assets are complete",
    )
    assets.set_defaults(handler=_create_assets)


def _optional_registrars(
    module_names: Sequence[str],
) -> list[Callable[[argparse._SubParsersAction], None]]:
    """Subcommands of other rooms (simulation, summary), registered if their module exists."""
    import importlib

    registrars = []
    for module_name in module_names:
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError as error:
            if error.name != module_name:
                raise
            continue
        registrars.append(module.register)
    return registrars


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="spyralflow",
        description=DESCRIPTION,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"spyralflow {__version__}")
    subparsers = parser.add_subparsers(
        title="commands", dest="command", required=True, metavar="COMMAND"
    )
    _register_user_commands(subparsers)
    for register in _optional_registrars(USER_COMMAND_MODULES):
        register(subparsers)
    _register_job_commands(subparsers)
    for register in _optional_registrars(JOB_COMMAND_MODULES):
        register(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``spyralflow`` console script."""
    logging.basicConfig(
        level=logging.INFO,
        stream=sys.stderr,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    arguments = build_parser().parse_args(argv)
    if getattr(arguments, "threads", None):
        limit_threads(arguments.threads)
    if hasattr(arguments, "workspace"):
        use_numba_cache_of(arguments)
    try:
        arguments.handler(arguments)
    except Exception as error:
        logging.getLogger("spyralflow").exception("error: %s", error)
        sys.stderr.write(f"spyralflow {arguments.command}: error: {error}\n")
        return EXIT_FAILURE
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
