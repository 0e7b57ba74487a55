"""Stage 3, the analyses: what the figures mean, in pandas, from the cube.

Enters: a :class:`salesbook.cube.Cube` (and its profile: what the data can support). Leaves: pandas
tables and dicts of figures, and the sentences that state them with their period, their base, and
"cannot tell yet" below the documented minimum of evidence: segmentation (the nine categories,
ABC/XYZ, RFM, reactivation lists), seasonality, the stagnation diagnosis, the forecast, the what-ifs,
hand-overs, the VIP sector, and the calibration of opportunities on the company's own history.

Imports from: the foundation, :mod:`salesbook.data` (a pipeline or plan file) and :mod:`salesbook.cube`;
never from views or run.
"""
