"""The terminal chart: markers where the log-log scales put them, a legend, overlaps marked."""

from __future__ import annotations

from decimal import Decimal

from tokcli.tco.chart import OVERLAP, line_chart, markers_for

D = Decimal


def test_markers_use_initials_and_stay_unique():
    markers = markers_for(["api", "neocloud", "self-hosted", "another api"])
    assert markers["api"] == "A" and markers["neocloud"] == "N" and markers["self-hosted"] == "S"
    assert len(set(markers.values())) == 4


def test_points_land_in_the_corners_of_a_log_log_grid():
    series = {
        "api": [(10, D(1)), (1000, D(100))],  # rises two decades over two decades
        "flat": [(10, D(100)), (1000, D(100))],
    }
    text = line_chart(series, {"api": "A", "flat": "F"}, width=21, height=5)
    lines = text.splitlines()
    top, bottom = lines[0], lines[4]
    assert top.split("|")[1] == "F" + " " * 19 + OVERLAP  # both at $100 on the right
    assert bottom.split("|")[1] == "A"  # $1 at the lowest volume
    assert lines[0].startswith("$100") and lines[4].lstrip().startswith("$1")
    assert "A = api, F = flat" in lines[-1]
