# Validation and rule generation, before any job runs. Kept light: every cluster job parses it.
from pathlib import Path

from spyralflow.generator import prepare_workflow

PIPELINE = prepare_workflow(config, workflow_folder=Path(workflow.current_basedir).parent)
