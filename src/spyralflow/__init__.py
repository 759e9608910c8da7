"""spyralflow: the AT-TPC analysis pipeline as a Snakemake workflow.

This package stays light to import: the Snakefile imports it on every parse, including once per
cluster job. Phases, readers and kernels live in subpackages imported only where they run.
"""

__version__ = "0.1.0"
