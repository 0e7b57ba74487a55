"""The VIP sector's list: the largest clients now, and the "offended" ones to win back.

DOMAIN.md (after the seeds): a VIP sector serves the largest clients and wins back the "offended"
ones. Operational definitions:

- **Largest now**: class A of the analysis window (``abc``, the segmentation's ABC on revenue) or the
  VIP category.
- **Offended**: class A in a past full calendar year (the ABC rule on that year's revenue, the same
  ``abc_a`` cut-off), and sleeping now (the segmentation's category). Ranked by the revenue of their best
  such year; with their last manager, last order and the categories of their last year of purchases.

Years the data do not cover fully are not read: a client's "past A" is only ever said of a full year.
"""

from __future__ import annotations


import numpy as np
import pandas as pd

from salesbook.cube import Cube
from salesbook.i18n import t
from salesbook.analysis.segments import NO_MANAGER, _abc

__all__ = ["vip_sector", "offended", "vip_view", "vip_sentence"]


def _yearly_a(cube: Cube, years: list[int], abc_a: float) -> pd.DataFrame:
    """client_id, year, revenue: every client in class A of each full year."""
    cm = cube.client_month.astype({"client_id": str})
    cm = cm.assign(year=pd.to_datetime(cm.month).dt.year)
    rows = []
    for year in years:
        rev = cm[cm.year == year].groupby("client_id").revenue.sum()
        cls = _abc(rev, abc_a, 1.0)
        a = rev[cls == "A"]
        rows.append(pd.DataFrame({"client_id": a.index, "year": year, "revenue": a.to_numpy()}))
    return pd.concat(rows, ignore_index=True) if rows else pd.DataFrame(columns=["client_id", "year", "revenue"])


def _last_year_categories(cube: Cube, clients: pd.DataFrame) -> pd.Series:
    """The categories a client bought in its last 12 months of purchases, largest first."""
    ccm = cube.client_category_month.astype({"client_id": str, "category": object})
    ccm = ccm[ccm.client_id.isin(clients.index) & (ccm.revenue > 0) & ccm.category.notna()]
    last = pd.to_datetime(clients.last_date).reindex(ccm.client_id).to_numpy()
    recent = ccm[pd.to_datetime(ccm.month).to_numpy() > last - np.timedelta64(365, "D")]
    out = (recent.groupby(["client_id", "category"], observed=True).revenue.sum().reset_index()
           .sort_values(["client_id", "revenue"], ascending=[True, False]))
    if out.empty:
        return pd.Series(dtype=object)
    return out.groupby("client_id").category.agg(lambda c: ", ".join(map(str, c))).astype(object)


def offended(cube: Cube, classes: pd.DataFrame, abc_a: float = 0.8) -> pd.DataFrame:
    """Clients in class A of a past full year and sleeping now, by the revenue of their best A year."""
    cols = ["client_id", "client_name", "manager", "best_year", "best_year_revenue", "last_order", "categories"]
    years = [y for y in cube.profile.full_years() if y < cube.as_of.year]
    sleeping = classes[classes.category == "sleeping"]
    if not years or sleeping.empty:
        return pd.DataFrame(columns=cols)
    past = _yearly_a(cube, years, abc_a)
    past = past[past.client_id.isin(sleeping.index.astype(str))]
    if past.empty:
        return pd.DataFrame(columns=cols)
    best = past.sort_values(["client_id", "revenue"], ascending=[True, False]).drop_duplicates("client_id")
    who = sleeping.copy()
    who.index = who.index.astype(str)
    who = who.loc[best.client_id]
    cats = _last_year_categories(cube, who)
    out = pd.DataFrame({"client_id": best.client_id.to_numpy(), "client_name": who.client_name.to_numpy(),
                        "manager": who.manager.astype(object).fillna(NO_MANAGER).to_numpy(),
                        "best_year": best.year.astype(str).to_numpy(), "best_year_revenue": best.revenue.round(2).to_numpy(),
                        "last_order": pd.to_datetime(who.last_date).dt.date.to_numpy(),
                        "categories": cats.reindex(best.client_id).astype(object).fillna("").to_numpy()})
    return out.sort_values("best_year_revenue", ascending=False, kind="stable").reset_index(drop=True)


def vip_sector(cube: Cube, classes: pd.DataFrame, abc_a: float = 0.8) -> dict[str, pd.DataFrame]:
    """``largest``: class A of the window or VIP now, by revenue; ``offended``: :func:`offended`."""
    now = classes[(classes.abc == "A") | (classes.category == "vip")]
    largest = pd.DataFrame({"client_id": now.index.astype(str), "client_name": now.client_name.to_numpy(),
                            "manager": now.manager.astype(object).fillna(NO_MANAGER).to_numpy(),
                            "category": now.category.to_numpy(), "abc": now.abc.to_numpy(),
                            "revenue": now.revenue.round(2).to_numpy()})
    largest = largest.sort_values("revenue", ascending=False, kind="stable").reset_index(drop=True)
    return {"largest": largest, "offended": offended(cube, classes, abc_a)}


def vip_view(table: pd.DataFrame, lang: str = "en", window_months: int = 12) -> pd.DataFrame:
    """A VIP list with its headers in ``lang``; money and category labels marked for the table."""
    out = table.copy()
    if "category" in out:
        out["category"] = out.category.map(lambda c: t(f"cat.{c}", lang))
    revenue = t("seg.col.revenue_window", lang, months=window_months)
    out = out.rename(columns={"client_id": t("seg.col.client_id", lang), "client_name": t("col.client", lang),
                              "manager": t("col.manager", lang), "category": t("col.category", lang),
                              "abc": "ABC", "revenue": revenue, "best_year": t("vip.col.best_year", lang),
                              "best_year_revenue": t("vip.col.best_year_revenue", lang),
                              "last_order": t("seg.col.last_order", lang),
                              "categories": t("vip.col.last_categories", lang)})
    out.attrs["money"] = [c for c in (revenue, t("vip.col.best_year_revenue", lang)) if c in out.columns]
    return out


def vip_sentence(sector: dict[str, pd.DataFrame], cube: Cube, lang: str = "en") -> str:
    """"143 clients for the VIP sector now (1,05 bn in the 12 months to ...); 37 offended ones ..."."""
    from salesbook.formats import fact, fmt_int, fmt_money
    years = [y for y in cube.profile.full_years() if y < cube.as_of.year]
    largest, hurt = sector["largest"], sector["offended"]
    text = t("vip.text", lang, n=fact("vip_desk.count", fmt_int(len(largest), lang), len(largest)),
             revenue=fact("vip_desk.revenue", fmt_money(largest.revenue.sum(), lang), largest.revenue.sum()),
             as_of=cube.as_of.date())
    if not years:
        return text + " " + t("vip.no_years", lang)
    return text + " " + t("vip.offended_text", lang, n=fmt_int(len(hurt), lang),
                          revenue=fmt_money(hurt.best_year_revenue.sum(), lang), first=years[0], last=years[-1])
