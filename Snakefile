# spyralflow: the AT-TPC analysis pipeline (Spyral phases) as a Snakemake workflow.
# Usage: snakemake --cores 2   (settings in workflow/profiles/default; science in config/)
from snakemake.utils import min_version

min_version("9.20")


configfile: "config/config.yaml"


report: "workflow/report/workflow.rst"


include: "workflow/rules/common.smk"
include: PIPELINE.rules_path
include: "workflow/rules/simulation.smk"
include: "workflow/rules/summary.smk"
include: "workflow/rules/spectrum.smk"


rule all:
    default_target: True
    input:
        PIPELINE.final_targets,
        SUMMARY_TARGETS,
        SPECTRUM_TARGETS,
