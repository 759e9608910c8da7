"""The spectrum's peak fit on synthetic histograms with known peaks, and the whole step on real
Kinematics parquet files."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import polars as pl
import pytest
import yaml

from spyralflow.framework.provenance import current_provenance
from spyralflow.phases.kinematics.output import write_kinematics
from spyralflow.phases.schemas import KINEMATICS_COLUMNS
from spyralflow.spectrum.build import PEAK_SCHEMA, SpectrumOutputs, build_spectrum
from spyralflow.spectrum.peaks import PeakFitError, find_states, fit_peaks, make_histogram
from spyralflow.spectrum.settings import SpectrumSettings

REPOSITORY = Path(__file__).resolve().parents[2]
TRUE_PEAKS = ((0.0, 0.25, 3000), (1.766, 0.30, 2000))  # centroid MeV, sigma MeV, counts
BACKGROUND = 400  # events spread flat over the range


def _sample(seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    parts = [rng.normal(centre, sigma, count) for centre, sigma, count in TRUE_PEAKS]
    parts.append(rng.uniform(-2.0, 4.0, BACKGROUND))
    return np.concatenate(parts)


def test_fit_recovers_known_peaks_within_their_errors() -> None:
    pulls, tails = [], []
    for seed in range(8):
        histogram = make_histogram(_sample(seed), -2.0, 4.0, 0.05)
        fit = fit_peaks(histogram, [0.1, 1.6])
        for peak, (centre, sigma, count) in zip(fit.peaks, TRUE_PEAKS, strict=True):
            pulls.append((peak.centroid - centre) / peak.sigma_centroid)
            assert peak.width == pytest.approx(sigma, abs=4 * peak.sigma_width)
            assert peak.counts == pytest.approx(count, abs=4 * peak.sigma_counts)
            assert peak.sigma_centroid == pytest.approx(sigma / np.sqrt(count), rel=0.3)
        assert fit.background * 6.0 == pytest.approx(BACKGROUND, rel=0.3)
        assert 0.7 < fit.reduced_chisq < 1.4
        tails.append(fit.tail_fraction)
    # The errors mean what they say: the pulls have unit spread and no offset.
    assert abs(np.mean(pulls)) < 0.6 and 0.5 < np.std(pulls) < 1.6
    # Gaussian peaks keep the one-Gaussian shape (a tail is kept at the 1 % level).
    assert sum(fraction > 0.0 for fraction in tails) <= 1


# Core and tail of the same centroid (a well and a poorly reconstructed part), as the
# reconstructed 16C(d,d') spectrum shows: centroid MeV, core sigma MeV, counts.
TAILED_PEAKS = ((0.0, 0.05, 600), (1.766, 0.05, 700))
TAIL_FRACTION, TAIL_SIGMA = 0.7, 0.4


def _tailed_sample(seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    parts = []
    for centre, sigma, count in TAILED_PEAKS:
        in_tail = int(TAIL_FRACTION * count)
        parts += [
            rng.normal(centre, sigma, count - in_tail),
            rng.normal(centre, TAIL_SIGMA, in_tail),
        ]
    parts.append(rng.uniform(-1.5, 3.3, 200))
    return np.concatenate(parts)


def test_fit_of_peaks_with_tails_finds_the_core_and_the_tail() -> None:
    pulls = []
    for seed in range(6):
        fit = fit_peaks(make_histogram(_tailed_sample(seed), -1.5, 3.3, 0.05), [0.1, 1.6])
        assert fit.tail_fraction == pytest.approx(TAIL_FRACTION, abs=0.1)
        assert fit.tail_sigma == pytest.approx(TAIL_SIGMA, rel=0.2)
        for peak, (centre, sigma, count) in zip(fit.peaks, TAILED_PEAKS, strict=True):
            pulls.append((peak.centroid - centre) / peak.sigma_centroid)
            assert peak.width == pytest.approx(sigma, abs=4 * peak.sigma_width)
            assert peak.counts == pytest.approx(count, abs=4 * peak.sigma_counts)
        assert 0.6 < fit.reduced_chisq < 1.5
    assert abs(np.mean(pulls)) < 0.6 and 0.4 < np.std(pulls) < 1.6


def test_peaks_are_found_without_configured_states() -> None:
    histogram = make_histogram(_sample(3), -2.0, 4.0, 0.05)
    states = find_states(histogram, max_states=4)
    assert len(states) == 2
    assert states[0] == pytest.approx(0.0, abs=0.15) and states[1] == pytest.approx(1.766, abs=0.15)


def test_fit_refuses_an_empty_histogram() -> None:
    with pytest.raises(PeakFitError, match="cannot fit"):
        fit_peaks(make_histogram(np.empty(0), -1.0, 1.0, 0.1), [0.0])


def _kinematics_file(path: Path, ex: np.ndarray, reasons: list[str]) -> Path:
    n = ex.size
    columns = {name: [0.0] * n for name in KINEMATICS_COLUMNS}
    for name in ("event", "cluster_index", "cluster_label", "orig_run", "orig_event"):
        columns[name] = list(range(n))
    columns["ex"] = ex.tolist()
    columns["cm_polar"] = np.deg2rad(np.linspace(20.0, 80.0, n)).tolist()
    columns["reason"] = reasons
    write_kinematics(path, columns, current_provenance("Kinematics"), {})
    return path


def _outputs(folder: Path) -> SpectrumOutputs:
    return SpectrumOutputs(
        table=folder / "peaks.parquet",
        table_html=folder / "peaks.html",
        spectrum_plot=folder / "excitation.png",
        angle_plot=folder / "ex_vs_cm.png",
        coverage_plot=folder / "cm_coverage.png",
    )


def test_build_writes_table_and_plots(tmp_path: Path) -> None:
    ex = _sample(1)
    reasons = ["ok"] * ex.size
    reasons[:5] = ["fit_not_finite"] * 5
    ex[:5] = np.nan
    first = _kinematics_file(tmp_path / "run_0001.parquet", ex[::2], reasons[::2])
    second = _kinematics_file(tmp_path / "run_0002.parquet", ex[1::2], reasons[1::2])
    empty = _kinematics_file(tmp_path / "run_0003.parquet", np.empty(0), [])
    outputs = _outputs(tmp_path / "spectrum")
    table = build_spectrum(SpectrumSettings(states=(0.0, 1.766)), [first, second, empty], outputs)
    assert table.height == 2 and table.schema == pl.Schema(PEAK_SCHEMA)
    assert table["centroid"].to_list() == pytest.approx([0.0, 1.766], abs=0.03)
    assert table["not_computed"].to_list() == [5, 5]
    assert pl.read_parquet(outputs.table).equals(table)
    page = outputs.table_html.read_text()
    assert page.count("<tr>") == 3 and "centroid" in page and "MeV" in page
    for plot in (outputs.spectrum_plot, outputs.angle_plot, outputs.coverage_plot):
        assert plot.stat().st_size > 10_000


def test_build_of_empty_runs_writes_an_empty_table(tmp_path: Path) -> None:
    empty = _kinematics_file(tmp_path / "run_0001.parquet", np.empty(0), [])
    outputs = _outputs(tmp_path / "spectrum")
    table = build_spectrum(SpectrumSettings(), [empty], outputs)
    assert table.height == 0 and table.columns == list(PEAK_SCHEMA)
    assert outputs.spectrum_plot.exists() and outputs.coverage_plot.exists()


def test_settings_defaults_equal_the_schema() -> None:
    schema = yaml.safe_load((REPOSITORY / "workflow/schemas/config.schema.yaml").read_text())
    properties = schema["$defs"]["spectrum"]["properties"]
    defaults = SpectrumSettings()
    for name, entry in properties.items():
        assert getattr(defaults, name) == entry["default"], name
