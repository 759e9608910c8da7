"""The ``spyralflow`` command: what the generated Snakemake rules call, and user helpers.

Subcommands:
  run-phase      run one phase on one run (called by the per-run rules)
  create-assets  build one phase's one-time assets (called by the asset rules)
  rules          print the Snakemake rules the current config gives
  simulate       simulate one run with attpc_engine (called by the simulation rule)
  summary        compare reconstruction with simulation truth (called by the summary rule)

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


def _key_value(text: str) -> tuple[str, Path]:
    key, separator, value = text.partition("=")
    if not separator or not key:
        raise argparse.ArgumentTypeError(f"expected KEY=PATH, got '{text}'")
    return key, Path(value)


def _add_phase_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--phase-class", required=True, help="dotted path of the phase class")
    parser.add_argument("--parameters", required=True, help="phase parameters as JSON")
    parser.add_argument("--code-hash", default="", help="content hash of the phase's code")
    parser.add_argument("--workspace", required=True, type=Path)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--threads", type=int, default=None, help="threads the job may use (the rule's threads:)"
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

    prepare_numba(getattr(arguments, "code_hash", ""))


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


def _register_core(subparsers: argparse._SubParsersAction) -> None:
    run = subparsers.add_parser("run-phase", help="run one phase on one run")
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

    assets = subparsers.add_parser("create-assets", help="build one phase's one-time assets")
    _add_phase_arguments(assets)
    assets.add_argument(
        "--manifest",
        required=True,
        type=Path,
        help="manifest file written when the assets are complete",
    )
    assets.set_defaults(handler=_create_assets)

    rules = subparsers.add_parser("rules", help="print the Snakemake rules the config gives")
    rules.add_argument("--configfile", type=Path, default=Path("config/config.yaml"))
    rules.add_argument("--schema", type=Path, default=Path("workflow/schemas/config.schema.yaml"))
    rules.set_defaults(handler=_print_rules)


def _optional_registrars() -> list[Callable[[argparse._SubParsersAction], None]]:
    """Subcommands of other rooms (simulation, summary), registered if their module exists."""
    import importlib

    registrars = []
    for module_name in ("spyralflow.simulation.cli", "spyralflow.summary.cli"):
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
        prog="spyralflow", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--version", action="version", version=f"spyralflow {__version__}")
    subparsers = parser.add_subparsers(dest="command", required=True)
    _register_core(subparsers)
    for register in _optional_registrars():
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
