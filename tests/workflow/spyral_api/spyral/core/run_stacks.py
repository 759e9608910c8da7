def form_run_string(run_number: int) -> str:
    return f"run_{run_number:04d}"
