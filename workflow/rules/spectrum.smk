# The excitation-energy spectrum over all runs, with its fitted peaks: present when a phase
# writes Kinematics tables (unless the config's `spectrum.enabled` is false).
SPECTRUM_TARGETS = []

if PIPELINE.spectrum is not None:
    SPECTRUM = PIPELINE.spectrum
    SPECTRUM_TARGETS = [SPECTRUM.output("peaks.parquet")]

    rule spectrum:
        input:
            kinematics=PIPELINE.per_run(SPECTRUM.kinematics),
        output:
            table=SPECTRUM.output("peaks.parquet"),
            table_html=report(
                SPECTRUM.output("peaks.html"),
                caption="../report/peaks.rst",
                category="Spectrum",
            ),
            spectrum=report(
                SPECTRUM.output("excitation.png"),
                caption="../report/excitation.rst",
                category="Spectrum",
            ),
            angle=report(
                SPECTRUM.output("ex_vs_cm.png"),
                caption="../report/ex_vs_cm.rst",
                category="Spectrum",
            ),
            coverage=report(
                SPECTRUM.output("cm_coverage.png"),
                caption="../report/cm_coverage.rst",
                category="Spectrum",
            ),
        log:
            SPECTRUM.output("spectrum.log"),
        benchmark:
            SPECTRUM.output("spectrum-benchmark.tsv")
        conda:
            "../envs/spyralflow.yaml"
        threads: 1
        resources:
            mem_mb=2000,
            runtime=15,
        params:
            settings=SPECTRUM.settings_json,
            code_hash=SPECTRUM.code_hash,
            lineage=SPECTRUM.lineage,
        shell:
            "spyralflow spectrum --settings {params.settings:q} "
            "--kinematics {input.kinematics:q} --table {output.table:q} "
            "--table-html {output.table_html:q} --spectrum-plot {output.spectrum:q} "
            "--angle-plot {output.angle:q} --coverage-plot {output.coverage:q} > {log:q} 2>&1"
