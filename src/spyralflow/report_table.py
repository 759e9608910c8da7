"""Tables for the Snakemake report: a polars frame as a small standalone HTML page.

Snakemake's report shows HTML results inline (and offers CSV or TSV files only as downloads), so
every table meant to be read in the report is written as HTML, next to its parquet.
"""

from __future__ import annotations

import html
import math
from pathlib import Path

import polars as pl

from spyralflow.framework.atomic import atomic_output

_STYLE = (
    "body{font-family:sans-serif;font-size:13px}table{border-collapse:collapse}"
    "th,td{border:1px solid #bbb;padding:2px 6px;text-align:right}th{background:#eee}"
    "caption{caption-side:top;text-align:left;padding:4px 0;font-weight:bold}"
)


def _cell(value: object, digits: int) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return "NaN" if math.isnan(value) else f"{value:.{digits}g}"
    return html.escape(str(value))


def write_html_table(frame: pl.DataFrame, path: Path, title: str, digits: int = 4) -> None:
    """Write ``frame`` as an HTML table page (floats with ``digits`` significant digits).

    Parameters
    ----------
    frame : polars.DataFrame
        The table; column names become the header.
    path : Path
        The ``.html`` file, written atomically.
    title : str
        The caption above the table (say what it shows and its units).
    digits : int
        Significant digits of float cells.
    """
    header = "".join(f"<th>{html.escape(name)}</th>" for name in frame.columns)
    rows = "".join(
        "<tr>" + "".join(f"<td>{_cell(value, digits)}</td>" for value in row) + "</tr>"
        for row in frame.iter_rows()
    )
    page = (
        f"<!DOCTYPE html><html><head><meta charset='utf-8'><title>{html.escape(title)}</title>"
        f"<style>{_STYLE}</style></head><body><table><caption>{html.escape(title)}</caption>"
        f"<thead><tr>{header}</tr></thead><tbody>{rows}</tbody></table></body></html>\n"
    )
    with atomic_output(path) as temporary:
        temporary.write_text(page)
