# Validation and rule generation, before any job runs. Kept light: every cluster job parses it.
from pathlib import Path

from spyralflow.generator import prepare_workflow
from spyralflow.generator.snakemake_fixes import fix_ancient_masking

# Runs behind a rebuilt asset (ancient input) are planned again (generator.snakemake_fixes).
fix_ancient_masking()

# Jobs on cluster nodes re-parse this file: only the main process claims the workspace.
PIPELINE = prepare_workflow(
    config,
    workflow_folder=Path(workflow.current_basedir).parent,
    claim=workflow.is_main_process,
    config_files=[str(path) for path in workflow.configfiles],
)
