"""Sales forecast by target clients: the weighted pipeline and a baseline from history.

A pipeline row is a deal: client, manager, expected amount, expected month and
stage. Its weight is the stage's probability (30/50/70/90/100 % by default,
DOMAIN.md; every one a parameter). Only deals with clients in the target
categories (Periodic, Prospective, Regular, Partner, VIP) enter the forecast;
the others are flagged, like deals whose expected month has passed.

Spontaneous clients' orders go to an assistant, not into the manager's forecast (DOMAIN.md): the new,
reactivated and one-off clients, and the *spontaneous periodic buyers*: periodic clients below a
threshold (:func:`spontaneous`; by default those of ABC class C over the window, the tail that makes
the last 5 % of revenue). Those periodic buyers leave the forecast's target, so no client is counted
both in the forecast and in the assistant's list.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from salesbook.cube import Cube
from salesbook.cube.memo import per_cube
from salesbook.errors import DataError, ParameterError, Problem
from salesbook.data.parse import parse_numbers
from salesbook.analysis.segments import TARGET_CATEGORIES

__all__ = ["STAGE_PROBABILITIES", "pipeline_for", "run_deals", "no_deals", "load_pipeline", "weighted_forecast", "forecast_table", "baseline", "load_plan", "read_plan", "check_plan_managers",
           "ASSISTANT_CATEGORIES", "SPONTANEOUS", "spontaneous", "spontaneous_rule", "assistant_clients",
           "baseline_backtest", "wape", "seasonal_naive", "win_rates"]

#: imported on first use, not with this module; a scheduled run's kernels import them ahead (salesbook.run.warm)
DEFERRED = ("statsmodels.tsa.holtwinters",)

#: stage (percent) -> probability; the criteria are in DOMAIN.md
STAGE_PROBABILITIES = {30: 0.30, 50: 0.50, 70: 0.70, 90: 0.90, 100: 1.00}
_REQUIRED = ("client_id", "manager", "amount", "expected_month", "stage")


def _read_table(path: Path) -> pd.DataFrame:
    if not path.exists():
        raise DataError(str(path), "file not found")
    if path.suffix.lower() in (".xlsx", ".xlsm"):
        return pd.read_excel(path, dtype=str)
    text = path.read_bytes()
    if not text.strip():
        raise DataError(str(path), "the file is empty")
    from salesbook.data.readers import detect_delimiter, detect_encoding  # not data.load: pandera, ibis (1 s)
    enc = detect_encoding(text[:65536])
    decoded = text.decode(enc).lstrip("\ufeff")
    import io
    return pd.read_csv(io.StringIO(decoded), sep=detect_delimiter(decoded[:20000]), dtype=str, keep_default_na=False)


def load_pipeline(source: "str | os.PathLike", probabilities: dict[int, float] | None = None) -> pd.DataFrame:
    """Read and validate a pipeline file (CSV or Excel).

    Columns: ``client_id``, ``manager``, ``amount``, ``expected_month`` (``YYYY-MM``
    or a date), ``stage`` (30, "30 %", 0.3 ...); optional ``deal_id``,
    ``client_name``. Returns one row per deal with ``stage`` as an integer percent
    and ``month`` (first day). Bad values raise a :class:`DataError` naming the
    file, the column, the line numbers and the texts.
    """
    from salesbook import paths
    path = paths.resolve_source(source) if str(source) != "sample" else paths.SAMPLE_PIPELINE
    raw = _read_table(path)
    raw.columns = [str(c).strip() for c in raw.columns]
    probs = probabilities or STAGE_PROBABILITIES
    problems = [Problem(f"required column is missing; the file has {', '.join(map(repr, raw.columns))}", column=c)
                for c in _REQUIRED if c not in raw.columns]
    if problems:
        raise DataError(str(path), problems)
    line = pd.Series(np.arange(len(raw)) + 2, index=raw.index)
    out = raw.copy()
    dec = "," if raw.amount.astype(str).str.contains(",\\d{1,2}$", regex=True).any() else "."
    out["amount"], bad_amount = parse_numbers(raw.amount, dec)
    stage_txt = raw.stage.astype(str).str.replace("%", "", regex=False).str.strip()
    stage_num, bad_stage = parse_numbers(stage_txt, ".")
    stage_num = stage_num.where(stage_num > 1, stage_num * 100).round()
    bad_stage = bad_stage | ~stage_num.isin(list(probs)) & stage_txt.ne("")
    month = pd.to_datetime(raw.expected_month.astype(str).str.strip().str[:7], format="%Y-%m", errors="coerce")
    bad_month = month.isna()
    for mask, col, what, expected in (
            (bad_amount | out.amount.isna(), "amount", "not a number", "an amount such as 125000.50"),
            (bad_stage, "stage", "not a known stage", "one of " + ", ".join(f"{k} %" for k in probs)),
            (bad_month, "expected_month", "not a month", "a month written as YYYY-MM")):
        if mask.any():
            problems.append(Problem("{n} value(s) " + what, column=col, rows=line[mask].tolist(),
                                    values=raw.loc[mask, col].tolist(), count=int(mask.sum()), expected=expected))
    if problems:
        raise DataError(str(path), problems)
    out["stage"] = stage_num.astype("int64")
    out["month"] = month.astype("datetime64[us]")
    out["outcome"] = _outcomes(raw, line, path)
    out["client_id"] = out.client_id.astype(str).str.strip()
    if "deal_id" not in out:
        out["deal_id"] = [f"row {r}" for r in line]
    return out


#: how a pipeline file may write a closed deal's outcome (optional column ``outcome``; empty: still open)
_OUTCOMES = {"won": "won", "win": "won", "1": "won", "выиграна": "won", "выигран": "won", "успех": "won",
             "lost": "lost", "loss": "lost", "0": "lost", "проиграна": "lost", "проигран": "lost", "отказ": "lost",
             "": "", "open": "", "nan": "", "открыта": ""}


def _outcomes(raw: pd.DataFrame, line: pd.Series, path: Any) -> pd.Series:
    """The optional ``outcome`` column as ``won``, ``lost`` or ``""`` (open); anything else a DataError."""
    if "outcome" not in raw:
        return pd.Series("", index=raw.index)
    text = raw.outcome.astype(str).str.strip().str.lower()
    out = text.map(_OUTCOMES)
    bad = out.isna()
    if bad.any():
        raise DataError(str(path), [Problem("{n} value(s) not a deal outcome", column="outcome", rows=line[bad].tolist(),
                                            values=raw.loc[bad, "outcome"].tolist(), count=int(bad.sum()),
                                            expected="won or lost (выиграна / проиграна), empty for an open deal")])
    return out


def win_rates(pipeline: pd.DataFrame, probabilities: dict[int, float] | None = None,
              min_deals: int = 10) -> pd.DataFrame:
    """Per stage: the default probability, the closed deals and the share won in the company's history, and
    the probability used (the history's from ``min_deals`` closed deals at that stage, else the default)."""
    probs = probabilities or STAGE_PROBABILITIES
    closed = pipeline[pipeline.get("outcome", pd.Series("", index=pipeline.index)).isin(["won", "lost"])]
    g = closed.groupby("stage").outcome.agg(closed="size", won=lambda o: int((o == "won").sum()))
    out = pd.DataFrame({"stage": list(probs), "default": list(probs.values())}).set_index("stage")
    # counts (int64 also when no deal is closed: pandas types an empty aggregate of text as text)
    out = out.join(g.astype("int64")).fillna({"closed": 0, "won": 0}).astype({"closed": int, "won": int})
    out["history"] = (out.won / out.closed).where(out.closed > 0)
    out["used"] = out.history.where(out.closed >= min_deals, out["default"])
    return out.reset_index()


def pipeline_for(pipeline: str, source: str) -> str:
    """The pipeline a run uses: the one it was given, else none; the sample's own only with the sample."""
    if pipeline:
        return pipeline
    return "sample" if is_sample(source) else ""


def is_sample(source: Any) -> bool:
    """True for the committed sample, read by any engine (``sample``, ``spark:sample``, or its file)."""
    from salesbook import paths
    text = str(source)
    if text.startswith("spark:"):
        text = text[len("spark:"):]
    return text == "sample" or text == str(paths.resolve_source("sample"))


def run_deals(pipeline: str, source: str, classes: pd.DataFrame, as_of: Any,
              probabilities: dict[int, float] | None = None, spontaneous_rule: str = "C") -> pd.DataFrame | None:
    """The weighted deals of the run's own pipeline (:func:`pipeline_for`), or ``None`` when it has none."""
    chosen = pipeline_for(pipeline, source)
    if not chosen:
        return None
    deals = load_pipeline(chosen, probabilities)
    rates = win_rates(deals, probabilities)  # the history's stage-to-won rates where closed deals tell them
    used = dict(zip(rates.stage, rates.used))
    open_deals = deals[deals.outcome == ""]
    out = weighted_forecast(open_deals, classes, as_of, used, spontaneous_rule=spontaneous_rule)
    out.attrs["win_rates"] = rates
    return out


def no_deals() -> pd.DataFrame:
    """An empty deal table with every column :func:`weighted_forecast` gives (a run without a pipeline)."""
    return pd.DataFrame({"deal_id": pd.Series(dtype=str), "client_id": pd.Series(dtype=str),
                         "manager": pd.Series(dtype=str), "amount": pd.Series(dtype=float),
                         "stage": pd.Series(dtype="int64"), "month": pd.Series(dtype="datetime64[us]"),
                         "probability": pd.Series(dtype=float), "weighted": pd.Series(dtype=float),
                         "category": pd.Series(dtype=str), "target": pd.Series(dtype=bool),
                         "assistant": pd.Series(dtype=bool), "stale": pd.Series(dtype=bool)})


def weighted_forecast(pipeline: pd.DataFrame, classes: pd.DataFrame, as_of: Any,
                      probabilities: dict[int, float] | None = None,
                      targets: tuple[str, ...] = TARGET_CATEGORIES, spontaneous_rule: str = "C") -> pd.DataFrame:
    """Each deal with its probability, weighted amount, client category and flags.

    ``classes``: the client categories at ``as_of`` (segments.classify_clients).
    Adds ``probability``, ``weighted``, ``category`` (``none`` for a client
    without purchases), ``target`` (counts in the forecast), ``assistant`` (a spontaneous periodic buyer
    under ``spontaneous_rule``: the assistant's, not a target), ``stale`` (the expected month is before
    ``as_of``'s month).
    """
    probs = probabilities or STAGE_PROBABILITIES
    out = pipeline.copy()
    out["probability"] = out.stage.map(probs).astype(float)
    out["weighted"] = out.amount * out.probability
    cat = classes.category.astype(str)
    cat.index = cat.index.astype(str)
    out["category"] = cat.reindex(out.client_id).fillna("none").to_numpy()
    assistant = spontaneous(classes, spontaneous_rule)
    assistant.index = assistant.index.astype(str)
    out["assistant"] = assistant.reindex(out.client_id, fill_value=False).to_numpy()
    out["target"] = out.category.isin(targets) & ~out.assistant
    out["stale"] = out.month < pd.Timestamp(as_of).to_period("M").to_timestamp()
    return out


def forecast_table(deals: pd.DataFrame, by: str = "month") -> pd.DataFrame:
    """Weighted forecast of the target, not stale deals by ``month``, ``manager`` or ``category``."""
    live = deals[deals.target & ~deals.stale]
    return live.groupby(by).agg(deals=("deal_id", "size"), amount=("amount", "sum"),
                                weighted=("weighted", "sum")).sort_index()


@per_cube  # the summary's outlook and workbook 04 read the same fit
def baseline(cube: Cube, horizon: int = 6, min_months: int = 12) -> pd.Series | None:
    """Revenue of the next ``horizon`` months from history: Holt-Winters (statsmodels).

    ``None`` with fewer than ``min_months`` full months of data: too short a history to extrapolate.

    Additive damped trend and multiplicative season of 12 months where there
    are two full years of positive months; a damped trend alone otherwise.
    """
    from salesbook.analysis.seasonality import complete_series
    y = complete_series(cube).asfreq("MS")  # full months only: a partial month would read as a drop
    if len(y) < min_months or y.isna().any():
        return None
    fit = _holt_winters(y)
    start = cube.as_of.to_period("M").to_timestamp() + pd.offsets.MonthBegin(1)
    # from the month after the data (``y`` stops at the last full month), kept to the months after as_of
    steps = (start.year - y.index[-1].year) * 12 + start.month - y.index[-1].month - 1 + horizon
    return fit.forecast(steps).iloc[-horizon:].rename("baseline")


def _holt_winters(y: pd.Series):
    """The baseline's model fitted on ``y``: additive damped trend, multiplicative 12-month season from two
    full years of positive months."""
    from statsmodels.tsa.holtwinters import ExponentialSmoothing
    seasonal = "mul" if len(y) >= 24 and (y > 0).all() else None
    model = ExponentialSmoothing(y, trend="add", damped_trend=True, seasonal=seasonal,
                                 seasonal_periods=12 if seasonal else None, initialization_method="estimated")
    return model.fit()


def wape(actual: pd.Series, predicted: pd.Series) -> float:
    """Weighted absolute percentage error: the sum of absolute errors over the sum of absolute actuals."""
    a, p = np.asarray(actual, dtype=float), np.asarray(predicted, dtype=float)
    total = np.abs(a).sum()
    return float(np.abs(a - p).sum() / total) if total else float("nan")


def seasonal_naive(y: pd.Series, i: int) -> float:
    """The forecast of month ``i`` of ``y`` by the same month a year before."""
    return float(y.iloc[i - 12]) if i >= 12 else float("nan")


@per_cube  # twelve fits: workbook 04's sentence and the pacing read the same
def baseline_backtest(cube: Cube, months: int = 12, min_months: int = 12) -> dict[str, Any] | None:
    """The history baseline backtested over the last ``months`` full months (rolling origin, one month
    ahead: fitted on the months before each, as :func:`baseline` is), beside a seasonal naive forecast.

    ``None`` when the data lack ``min_months`` of history before the first of those months."""
    from salesbook.analysis.seasonality import complete_series
    y = complete_series(cube).asfreq("MS")
    if len(y) < min_months + months or y.isna().any() or len(y) < 12 + months:
        return None
    rows = []
    for i in range(len(y) - months, len(y)):
        predicted = float(_holt_winters(y.iloc[:i]).forecast(1).iloc[0])
        rows.append((y.index[i], float(y.iloc[i]), predicted, seasonal_naive(y, i)))
    table = pd.DataFrame(rows, columns=["month", "actual", "baseline", "naive"])
    return {"table": table, "wape_baseline": wape(table.actual, table.baseline),
            "wape_naive": wape(table.actual, table.naive), "first": table.month.iloc[0], "last": table.month.iloc[-1]}


def read_plan(source: "str | os.PathLike", currency: str | None = None) -> pd.DataFrame:
    """A plan file (CSV or Excel), checked: one row per month, or per manager and month.

    Columns: ``month`` (YYYY-MM) and ``plan`` (amount), both required; optional ``manager`` (a row
    without one is the company's, not any manager's), ``new_clients`` (new clients planned that month)
    and ``currency`` (ISO 4217 code of the amounts; when given it must be the run's ``currency``).
    Returns columns ``month``, ``manager`` (None for a company row), ``plan``, ``new_clients`` (NaN when
    not planned). Raises :class:`DataError` (exit code 2 from the command line), in one line, on a missing
    column, an unreadable month or amount, a month (and manager) given twice, or another currency.
    """
    path = Path(source)
    raw = _read_table(path)
    raw.columns = [str(c).strip().lower() for c in raw.columns]
    missing = [c for c in ("month", "plan") if c not in raw.columns]
    if missing:
        raise DataError(str(path), [Problem("required column is missing", column=c,
                                            expected="month (YYYY-MM) and plan; optional manager, new_clients, currency")
                                    for c in missing])
    amount, bad = parse_numbers(raw.plan, "," if raw.plan.astype(str).str.contains(",").any() else ".")
    month = pd.to_datetime(raw.month.astype(str).str.strip().str[:7], format="%Y-%m", errors="coerce")
    new = pd.Series(np.nan, index=raw.index)
    if "new_clients" in raw.columns:
        text = raw.new_clients.astype(str).str.strip()
        new = pd.to_numeric(text.where(text != "", None), errors="coerce")
        bad = bad | (text.ne("") & new.isna()).to_numpy()
    if bad.any() or month.isna().any():
        rows = (np.flatnonzero((np.asarray(bad) | month.isna().to_numpy())) + 2).tolist()
        raise DataError(str(path), [Problem("{n} line(s) with a month, plan or new_clients that cannot be read",
                                            rows=rows)])
    if "currency" in raw.columns and currency:
        given = {c.strip().upper() for c in raw.currency.astype(str) if c.strip()}
        other = sorted(given - {str(currency).upper()})
        if other:
            text = f"the plan is in {', '.join(other)}, the run's amounts are in {str(currency).upper()}"
            raise DataError(str(path), [Problem(_literal(text), column="currency",
                                                expected="a plan in the data's currency (convert it, or run with --currency)")])
    manager = (raw.manager.astype(str).str.strip() if "manager" in raw.columns else pd.Series("", index=raw.index))
    out = pd.DataFrame({"month": pd.DatetimeIndex(month).astype("datetime64[us]"),
                        "manager": manager.where(manager != "", None).to_numpy(dtype=object),
                        "plan": amount.to_numpy(dtype="float64"), "new_clients": new.to_numpy(dtype="float64")})
    twice = out.duplicated(["month", "manager"], keep=False)
    if twice.any():
        rows = (np.flatnonzero(twice.to_numpy()) + 2).tolist()
        raise DataError(str(path), [Problem("{n} line(s) give the same month (and manager) twice", rows=rows)])
    return out


def load_plan(source: "str | os.PathLike", currency: str | None = None) -> pd.Series:
    """A plan file (:func:`read_plan`) as the company's plan by month: the sum of its rows (per-manager rows
    and company rows alike) for each month."""
    plan = read_plan(source, currency)
    by_month = plan.groupby("month").plan.sum()
    return pd.Series(by_month.to_numpy(), index=pd.DatetimeIndex(by_month.index).astype("datetime64[us]"),
                     name="plan")


def check_plan_managers(plan: pd.DataFrame, cube: Cube, where: str = "plan") -> None:
    """A :class:`DataError` when the plan names a manager the data do not have (a typo, or another team)."""
    named = {str(m) for m in plan.manager.dropna()}
    if not named:
        return
    if not cube.profile.has_manager:
        raise DataError(where, [Problem("the plan is per manager, but the data have no manager column")])
    known = {str(m) for m in cube.manager_month.manager.dropna().astype(str).unique()}
    unknown = sorted(named - known)
    if unknown:
        raise DataError(where, [Problem(_literal(f"manager(s) not in the data: {', '.join(unknown)}"), column="manager",
                                        expected="the managers as the data spell them")])


def _literal(text: str) -> str:
    """A message with no placeholder (Problem formats ``{n}``): braces in names stay braces."""
    return text.replace("{", "{{").replace("}", "}}")


#: categories whose orders an assistant takes (DOMAIN.md: spontaneous clients' orders go to an assistant, not
#: into the manager's forecast): everything outside the target categories that still buys
ASSISTANT_CATEGORIES = ("new", "reactivated", "one_off")
#: the default rule for spontaneous periodic buyers: ABC class C over the window
SPONTANEOUS = "C"


def spontaneous(classes: pd.DataFrame, rule: str = SPONTANEOUS) -> pd.Series:
    """Which clients are spontaneous periodic buyers (True), indexed like ``classes``.

    ``rule``: ``"C"`` (or another ABC class letter): periodic clients of that class over the window;
    an amount (``"50000"``): periodic clients whose window revenue is below it; ``""``: none.
    Anything else is a :class:`ParameterError` naming the parameter."""
    periodic = classes.category.astype(str) == "periodic"
    kind, value = spontaneous_rule(rule)
    if kind is None or (kind == "class" and "abc" not in classes):  # a hand-made table without classes
        return pd.Series(False, index=classes.index)
    if kind == "class":
        return periodic & (classes.abc.astype(str) == value)
    return periodic & (classes.revenue < value)


def spontaneous_rule(rule: str) -> "tuple[str | None, Any]":
    """The rule for spontaneous periodic buyers read: ``("class", "C")``, ``("below", 50000.0)`` or
    ``(None, None)``; anything else a :class:`ParameterError` (checked before a run starts)."""
    text = str(rule).strip()
    if not text:
        return None, None
    if text.upper() in ("A", "B", "C"):
        return "class", text.upper()
    try:
        below = float(text.replace("\u00a0", "").replace(" ", "").replace(",", "."))
    except ValueError:
        below = -1.0
    if below < 0:
        raise ParameterError(f"spontaneous {rule!r}: write an ABC class (C), an amount of 12-month revenue "
                             "(50000), or nothing for none")
    return "below", below


def assistant_clients(classes: pd.DataFrame, horizon: int = 3, spontaneous_rule: str = SPONTANEOUS) -> pd.DataFrame:
    """Clients outside the forecast's target (the assistant's categories and the spontaneous periodic buyers
    under ``spontaneous_rule``) who bought in the window, per manager: their orders
    in the window, typical order size (revenue / orders), and orders and revenue to expect in ``horizon`` months at
    their window's pace (orders a month over the months they have been clients in the window).

    Columns: manager, client_id, client_name, category, orders, order_size, expected_orders, expected.
    """
    from salesbook.analysis.segments import NO_MANAGER
    cols = ["manager", "client_id", "client_name", "category", "orders", "order_size", "expected_orders", "expected"]
    routed = classes.category.isin(ASSISTANT_CATEGORIES) | spontaneous(classes, spontaneous_rule)
    c = classes[routed & (classes.active_months > 0) & (classes.revenue > 0)]
    if c.empty:
        return pd.DataFrame(columns=cols)
    window = 12
    months = np.minimum(window, np.maximum(1, c.tenure_months.to_numpy()))  # a new client's pace since it came
    rate = c.orders.to_numpy() / months
    size = c.revenue.to_numpy() / c.orders.clip(lower=1).to_numpy()
    out = pd.DataFrame({"manager": c.manager.astype(object).fillna(NO_MANAGER).to_numpy(),
                        "client_id": c.index.astype(str), "client_name": c.client_name.to_numpy(),
                        "category": c.category.to_numpy(), "orders": c.orders.to_numpy(),
                        "order_size": size.round(2), "expected_orders": (rate * horizon).round(1),
                        "expected": (rate * horizon * size).round(2)})
    return out.sort_values(["manager", "expected"], ascending=[True, False]).reset_index(drop=True)
