# Reconstruction against simulation truth: one table and plots over all runs, shown by
# `snakemake --report report.html`. Only present when the config's `summary.enabled` is true.
SUMMARY_TARGETS = []

if PIPELINE.summary is not None:
    SUMMARY = PIPELINE.summary
    SUMMARY_TARGETS = [SUMMARY.output("summary.parquet")]

    rule summary:
        input:
            truth=PIPELINE.per_run(SUMMARY.truth),
            estimation=PIPELINE.per_run(SUMMARY.estimation),
            solver=PIPELINE.per_run(SUMMARY.solver) if SUMMARY.solver else [],
            cluster=PIPELINE.per_run(SUMMARY.cluster) if SUMMARY.cluster else [],
            kinematics=(PIPELINE.per_run(SUMMARY.kinematics) if SUMMARY.kinematics else []),
            gate=SUMMARY.solver_gate or [],
        output:
            table=SUMMARY.output("summary.parquet"),
            purity=SUMMARY.output("purity.parquet"),
            pid=report(
                SUMMARY.output("pid.png"),
                caption="../report/pid.rst",
                category="Summary",
            ),
            kinematics=report(
                SUMMARY.output("kinematics.png"),
                caption="../report/kinematics.rst",
                category="Summary",
            ),
            residuals=report(
                SUMMARY.output("residuals.png"),
                caption="../report/residuals.rst",
                category="Summary",
            ),
            extras=[
                (
                    report(
                        SUMMARY.output(name),
                        caption=f"../report/{name.split('.')[0]}.rst",
                        category="Summary",
                    )
                    if name.endswith((".html", ".png"))
                    else SUMMARY.output(name)
                )
                for name in SUMMARY.extra_files
            ],
        log:
            SUMMARY.output("summary.log"),
        benchmark:
            SUMMARY.output("summary-benchmark.tsv")
        conda:
            "../envs/spyralflow.yaml"
        threads: 1
        resources:
            mem_mb=4000,
            runtime=30,
        params:
            settings=SUMMARY.settings_json,
            extras=lambda wildcards, output: str(Path(output.table).parent),
            simulation=SUMMARY.simulation_json,
            code_hash=SUMMARY.code_hash,
            lineage=SUMMARY.lineage,
        shell:
            "spyralflow summary --settings {params.settings:q} "
            "--simulation-settings {params.simulation:q} --truth {input.truth:q} "
            "--estimation {input.estimation:q} --solver {input.solver:q} "
            "--cluster {input.cluster:q} --purity-table {output.purity:q} "
            "--table {output.table:q} --pid-plot {output.pid:q} "
            "--kinematics-plot {output.kinematics:q} "
            "--residuals-plot {output.residuals:q} --kinematics {input.kinematics:q} "
            "--solver-gate {input.gate:q} --extras-folder {params.extras:q} > {log:q} 2>&1"
