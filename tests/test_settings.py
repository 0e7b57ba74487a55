"""The run's settings: one typed object, the same defaults as the workbooks' parameters cells."""

from __future__ import annotations

import pytest

from salesbook.analysis import settings as rs
from salesbook.errors import ParameterError
from salesbook.run.runner import check_parameters, list_notebooks, notebook_parameters


@pytest.mark.parametrize("notebook", [p for p in list_notebooks() if rs.names(p.stem)], ids=lambda p: p.stem)
def test_every_parameters_cell_default_is_the_settings_default(notebook):
    declared = notebook_parameters(notebook)
    defaults = rs.names(notebook.stem)
    shared = [n for n in declared if n in defaults]
    assert len(shared) >= 5, f"{notebook.stem} declares too few of its settings: {shared}"
    for name in shared:
        cell = declared[name]["default"]
        value = eval(cell) if cell not in ("", None) else cell  # papermill gives the source text of the default
        assert value == defaults[name], f"{notebook.stem}: {name} is {cell} in the cell, {defaults[name]!r} in settings"


def test_a_run_config_sets_nested_rules_and_leaves_the_rest_at_their_defaults():
    s = rs.from_parameters({"01": {"sleeping_min_months": 9, "sleeping_gap_multiple": 5, "max_months_asleep": 12},
                            "03_stagnation": {"acquisition_mild": 0.3, "hunter_share": 0.4, "output_dir": "x"}})
    assert s.segmentation.rules.sleeping_min_months == 9
    assert s.segmentation.rules.sleeping_gap_multiple == 5.0 and isinstance(s.segmentation.rules.sleeping_gap_multiple, float)
    assert s.segmentation.max_months_asleep == 12
    assert s.stagnation.rules.acquisition_mild == 0.3 and s.stagnation.rules.hunter_share == 0.4
    assert s.segmentation.rules.new_months == rs.Settings().segmentation.rules.new_months
    assert s.forecast == rs.Forecast()


def test_a_setting_of_the_wrong_type_or_name_is_one_line():
    with pytest.raises(ParameterError, match="sleeping_min_months='nine': expected a number"):
        rs.apply(rs.Settings(), "01", {"sleeping_min_months": "nine"})
    with pytest.raises(ParameterError, match="expected a whole number"):
        rs.apply(rs.Settings(), "01", {"sleeping_min_months": 6.5})
    with pytest.raises(ParameterError, match="no setting of this workbook"):
        rs.apply(rs.Settings(), "01", {"sleeping_months": 6})


def test_the_settings_file_reads_back_the_same_object(tmp_path):
    s = rs.from_parameters({"01": {"abc_a": 0.7}, "03": {"trend_months": 24, "tenure_edges": [3, 6]},
                            "04": {"spontaneous": ""}})
    back = rs.read(rs.write(s, tmp_path / rs.SETTINGS_FILE))
    assert back == s
    assert back.stagnation.handovers.tenure_edges == (3, 6)


def test_a_workbook_reads_the_run_file_under_its_own_cell(tmp_path):
    path = rs.write(rs.from_parameters({"01": {"sleeping_min_months": 9}, "03": {"acquisition_mild": 0.4}}),
                    tmp_path / "s.json")
    # workbook 04 declares none of 01's names: it reads the run's categories from the file
    s = rs.for_notebook("04", {"horizon_months": 3}, str(path))
    assert s.segmentation.rules.sleeping_min_months == 9 and s.forecast.horizon_months == 3
    # the cell's own value wins over the file (papermill injects the run's values into the cell)
    assert rs.for_notebook("03", {"trend_months": 24}, str(path)).stagnation.rules.trend_months == 24
    assert rs.for_notebook("03", {}, "").stagnation.rules.acquisition_mild == 0.25
    with pytest.raises(ParameterError, match="cannot be read"):
        rs.read(tmp_path / "missing.json")


def test_the_runner_accepts_a_threshold_the_cell_does_not_list_and_checks_its_type():
    nb = next(p for p in list_notebooks() if p.stem.startswith("03"))
    assert "acquisition_mild" not in notebook_parameters(nb)
    check_parameters(nb, {"acquisition_mild": 0.3})
    with pytest.raises(ParameterError, match="acquisition_mild"):
        check_parameters(nb, {"acquisition_mild": "high"})
    with pytest.raises(ParameterError, match="unknown parameter 'acquisition'"):
        check_parameters(nb, {"acquisition": 0.3})
