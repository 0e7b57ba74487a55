"""A run's settings: every workbook's rules as one typed object, in one place.

Each workbook's parameters cell names the settings a reader is most likely to change, with the same
defaults as here (``tests/test_settings.py`` checks that they agree). A scheduled run builds one
:class:`Settings` from its config (``salesbook run --config``: ``{"01": {"sleeping_min_months": 9}}``),
writes it to the run folder (:data:`SETTINGS_FILE`) and passes that file to every workbook; the
summary, the manager packs, the PDF and the single file render what was computed with it. So a
figure that appears on two pages was computed once, with the run's settings.

A name is looked up in the workbook's section, nested rules included: ``sleeping_min_months`` of
``"01"`` is ``Settings.segmentation.rules.sleeping_min_months``. Within a section every name is
unique.
"""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass, field, fields, is_dataclass, replace
from pathlib import Path
from typing import Any, Mapping

from salesbook.errors import ParameterError
from salesbook.paths import RunFile, Workbook
from salesbook.analysis.handovers import HandoverRules
from salesbook.analysis.segments import Rules
from salesbook.analysis.stagnation import DiagnosisRules
from salesbook.analysis.pacing import PaceRules
from salesbook.analysis.walk import WalkRules

__all__ = ["Segmentation", "Seasonality", "Stagnation", "Forecast", "WhatIf", "Settings", "SECTIONS",
           "SETTINGS_FILE", "names", "values", "from_parameters", "read", "write", "for_notebook"]

SETTINGS_FILE = RunFile.SETTINGS


@dataclass(frozen=True)
class Segmentation:
    """Workbook 01: the nine categories, ABC/XYZ, RFM, the reactivation lists."""

    rules: Rules = Rules()
    xyz_x: float = 0.5  #: X: coefficient of variation of monthly purchases up to this
    xyz_y: float = 1.0  #: Y: up to this; Z above
    abc_measure: str = "revenue"  #: revenue or margin (needs a cost column)
    rfm_window_months: int = 24  #: months of frequency and monetary value in RFM
    max_months_asleep: int = 24  #: the reactivation (call) lists leave out clients asleep longer
    compare_to: str = ""  #: migration from this date, ISO; empty for one year before the analysis date


@dataclass(frozen=True)
class Seasonality:
    """Workbook 02."""

    trend_months: int = 36  #: months of the adjusted series the trend line is fitted on
    stl: bool = True  #: also estimate the indices with STL (needs two full years)
    min_share: float = 0.02  #: segments below this share of revenue get no profile of their own
    country: str = "RU"  #: public-holiday calendar for working days (ISO country code)
    extra_holidays: str = ""  #: more days off, comma-separated ISO dates
    extra_workdays: str = ""  #: more working days, comma-separated ISO dates


@dataclass(frozen=True)
class Stagnation:
    """Workbook 03: the diagnosis and its thresholds, the bridge, cohorts, whitespace, hand-overs."""

    rules: DiagnosisRules = DiagnosisRules()
    handovers: HandoverRules = HandoverRules()
    bridge_end: str = ""  #: end of the bridge's later window, ISO; empty for the analysis date
    bridge_months: int = 12  #: length of each bridge window in months
    cohort_freq: str = "Y"  #: cohorts by acquisition year Y or quarter Q
    whitespace_min: float = 0.25  #: whitespace: at least this share of similar clients buy the category
    walk: WalkRules = WalkRules()  #: the revenue walk (issue 28)


@dataclass(frozen=True)
class Forecast:
    """Workbook 04."""

    p30: float = 0.3  #: probability of stage 30: calculation sent
    p50: float = 0.5  #: probability of stage 50: the offer suits the client
    p70: float = 0.7  #: probability of stage 70: agreed with the decision maker
    p90: float = 0.9  #: probability of stage 90: order date known
    p100: float = 1.0  #: probability of stage 100: invoice issued
    horizon_months: int = 6  #: months of the baseline forecast
    spontaneous: str = "C"  #: periodic buyers routed to the assistant: an ABC class, an amount, or empty
    pace: PaceRules = PaceRules()  #: each manager's pace against the plan (issue 28; the summary and the packs)

    @property
    def probabilities(self) -> dict[int, float]:
        return {30: self.p30, 50: self.p50, 70: self.p70, 90: self.p90, 100: self.p100}


@dataclass(frozen=True)
class WhatIf:
    """Workbook 05: the levers and the reorganisation."""

    reactivate: float = 0.1  #: share of the sleeping clients won back
    frequency: float = 0.05  #: purchase frequency of repeat buyers, relative rise
    deal_size: float = 0.05  #: average deal of repeat buyers, relative rise
    categories: float = 0.2  #: more categories per active client
    retain: float = 0.2  #: share of last year's lost revenue kept
    hunters: int = 3  #: managers moved to hunting new clients only
    hunter_rate: float = -1.0  #: new clients a month per hunter; negative for the rate calibrated on the data
    ramp_months: int = 3  #: months before a hunter reaches that rate
    handover: str = "deals:2"  #: when a hunter hands a client to an account manager
    overflow_loss: float = 0.3  #: yearly revenue lost on clients beyond the account managers' capacity
    projection_months: int = 36  #: months of the projection


@dataclass(frozen=True)
class Settings:
    """Every workbook's settings of one run."""

    segmentation: Segmentation = Segmentation()
    seasonality: Seasonality = Seasonality()
    stagnation: Stagnation = Stagnation()
    forecast: Forecast = Forecast()
    whatif: WhatIf = WhatIf()


#: workbook number (``"01"``) -> its section of :class:`Settings`
SECTIONS = {w.number: section for w, section in ((Workbook.SEGMENTATION, "segmentation"),
                                                 (Workbook.SEASONALITY, "seasonality"),
                                                 (Workbook.STAGNATION, "stagnation"), (Workbook.FORECAST, "forecast"),
                                                 (Workbook.WHATIF, "whatif"))}


def _key(notebook: str) -> str:
    return str(notebook).split("_", 1)[0][:2]


def _paths(cls: type, prefix: tuple[str, ...] = ()) -> dict[str, tuple[str, ...]]:
    """Each leaf name of a settings dataclass -> its path of attribute names."""
    out: dict[str, tuple[str, ...]] = {}
    for f in fields(cls):
        default = f.default if f.default is not dataclasses.MISSING else None
        if is_dataclass(default):
            out.update(_paths(type(default), prefix + (f.name,)))
        else:
            out[f.name] = prefix + (f.name,)
    return out


def names(notebook: str) -> dict[str, Any]:
    """The settings a workbook reads, by name, with their defaults (``{}`` for a workbook without any)."""
    return values(Settings(), notebook)


def values(settings: Settings, notebook: str) -> dict[str, Any]:
    """The settings a workbook reads, by name, with their values in ``settings``."""
    section = SECTIONS.get(_key(notebook))
    if section is None:
        return {}
    obj = getattr(settings, section)
    return {name: _get(obj, path) for name, path in _paths(type(obj)).items()}


def _get(obj: Any, path: tuple[str, ...]) -> Any:
    for p in path:
        obj = getattr(obj, p)
    return obj


def _set(obj: Any, path: tuple[str, ...], value: Any) -> Any:
    if len(path) == 1:
        return replace(obj, **{path[0]: value})
    return replace(obj, **{path[0]: _set(getattr(obj, path[0]), path[1:], value)})


def _coerce(name: str, default: Any, value: Any, where: str) -> Any:
    """``value`` as the type of ``default``; a wrong type is a one-line ParameterError."""
    if isinstance(default, tuple):
        return tuple(value)
    if isinstance(default, bool):
        if isinstance(value, bool):
            return value
        raise ParameterError(f"{where}: {name}={value!r}: expected true or false")
    if isinstance(default, (int, float)) and not isinstance(default, bool):
        try:
            number = float(value)
        except (TypeError, ValueError):
            raise ParameterError(f"{where}: {name}={value!r}: expected a number") from None
        if isinstance(default, int) and not float(number).is_integer():
            raise ParameterError(f"{where}: {name}={value!r}: expected a whole number")
        return int(number) if isinstance(default, int) else number
    return "" if value is None else str(value)


def apply(settings: Settings, notebook: str, values: Mapping[str, Any], strict: bool = True) -> Settings:
    """``settings`` with ``values`` (names of ``notebook``'s section) set; names that are no setting are
    an error when ``strict`` (else left alone: the run's common parameters, a workbook's own switches)."""
    section = SECTIONS.get(_key(notebook))
    if section is None:
        if strict and values:
            raise ParameterError(f"{notebook}: no settings to set ({', '.join(values)})")
        return settings
    obj = getattr(settings, section)
    paths = _paths(type(obj))
    for name, value in values.items():
        if name not in paths:
            if strict:
                raise ParameterError(f"{notebook}: {name} is no setting of this workbook; "
                                     f"known: {', '.join(sorted(paths))}")
            continue
        obj = _set(obj, paths[name], _coerce(name, _get(obj, paths[name]), value, notebook))
    return replace(settings, **{section: obj})


def from_parameters(per_notebook: Mapping[str, Mapping[str, Any]] | None) -> Settings:
    """The run's settings from its per-workbook values (``{"01": {...}}`` or ``{"01_segmentation": {...}}``);
    names that are not settings (a workbook's own switches) are left to the workbook."""
    settings = Settings()
    for notebook, values in (per_notebook or {}).items():
        settings = apply(settings, notebook, values, strict=False)
    return settings


def _plain(obj: Any) -> Any:
    if is_dataclass(obj):
        return {f.name: _plain(getattr(obj, f.name)) for f in fields(obj)}
    if isinstance(obj, tuple):
        return list(obj)
    return obj


def write(settings: Settings, path: "str | Path") -> Path:
    """The settings as JSON (every value, defaults included: the run's record)."""
    path = Path(path)
    path.write_text(json.dumps(_plain(settings), ensure_ascii=False, indent=1), encoding="utf-8")
    return path


def read(path: "str | Path") -> Settings:
    """Settings written by :func:`write`; a missing or unreadable file is a one-line ParameterError."""
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ParameterError(f"settings file {path}: cannot be read ({exc.__class__.__name__})") from None
    settings = Settings()
    for key, section in SECTIONS.items():
        flat: dict[str, Any] = {}

        def walk(d: Mapping[str, Any]) -> None:
            for k, v in d.items():
                walk(v) if isinstance(v, Mapping) else flat.__setitem__(k, v)
        walk(data.get(section, {}))
        settings = apply(settings, key, flat, strict=False)
    return settings


def for_notebook(notebook: str, namespace: Mapping[str, Any], settings_file: str = "") -> Settings:
    """The settings a workbook runs with: the run's file when it has one, else the defaults, with the
    workbook's own parameters cell (``namespace``, e.g. ``globals()``) on top."""
    settings = read(settings_file) if settings_file else Settings()
    own = {name: namespace[name] for name in names(notebook) if name in namespace}
    return apply(settings, notebook, own, strict=False)
