# Simulated input runs with truth (attpc_engine): raw GET traces, the engine's point clouds and
# a truth table per run. Only present when the config's `simulation.enabled` is true.
if PIPELINE.simulation is not None:

    rule simulate:
        output:
            traces=PIPELINE.simulation.traces,
            pointcloud=PIPELINE.simulation.pointcloud,
            truth=PIPELINE.simulation.truth,
        log:
            f"{PIPELINE.config.workspace}/logs/simulate/run_{{run}}.log",
        benchmark:
            f"{PIPELINE.config.workspace}/benchmarks/simulate/run_{{run}}.tsv"
        group:
            "run"
        conda:
            "../envs/spyralflow.yaml"
        threads: 1
        resources:
            mem_mb=2000,
            runtime=60,
        params:
            settings=PIPELINE.simulation.settings_json,
            code_hash=PIPELINE.simulation.code_hash,
            seed=PIPELINE.config.seed,
        shell:
            "spyralflow simulate --settings {params.settings:q} --seed {params.seed} "
            "--run {wildcards.run} --traces {output.traces:q} "
            "--pointcloud {output.pointcloud:q} --truth {output.truth:q} > {log:q} 2>&1"
