"""The VIP sector's lists on a hand-made history."""

import pandas as pd

import salesbook as sb
from salesbook.analysis import segments as sg, vip


def _history() -> pd.DataFrame:
    """Five clients, monthly orders, 2023-2025. Big buys 1000 a month in 2023, then stops (offended);
    Steady buys 800 a month throughout (class A now); three small clients buy 10 a month throughout."""
    rows = []
    for month in pd.date_range("2023-01-01", "2025-12-01", freq="MS"):
        day = month  # the 1st: January 2023 is a full month of data
        if month.year == 2023:
            rows.append(("Big", 1000.0, day))
        rows.append(("Steady", 800.0, day))
        for small in ("S1", "S2", "S3"):
            rows.append((small, 10.0, day))
    df = pd.DataFrame(rows, columns=["client_id", "amount", "date"])
    return df.assign(client_name=df.client_id + " Ltd", manager="Ivanova", category="bolts")


def test_the_offended_and_the_largest_by_hand():
    cube = sb.build_cube(sb.load_sales(_history(), as_of="2025-12-31", odd_dates="keep", stage=True))
    classes = sg.classify_clients(cube)
    sector = vip.vip_sector(cube, classes)
    # 2023: Big 12,000 and Steady 9,600 of 21,960 -> Big opens A (0 before), Steady too (54.6 % before < 80 %)
    hurt = sector["offended"]
    assert list(hurt.client_id) == ["Big"] and hurt.best_year.iloc[0] == "2023"
    assert hurt.best_year_revenue.iloc[0] == 12000.0 and hurt.categories.iloc[0] == "bolts"
    assert classes.loc["Big", "category"] == "sleeping"
    # now: Steady alone is class A (9,600 of 9,960); the small ones are not
    assert list(sector["largest"].client_id) == ["Steady"]
    from salesbook.formats import plain
    text = plain(vip.vip_sentence(sector, cube))
    assert text.startswith("1 ") and "for the top-clients desk now" in text and "from 2023 to 2024" in text and "RUB\u00a012,000" in text


def test_no_full_past_year_names_no_offended_client():
    short = _history()
    short = short[short.date >= "2025-03-01"]
    cube = sb.build_cube(sb.load_sales(short, as_of="2025-12-31", odd_dates="keep", stage=True))
    sector = vip.vip_sector(cube, sg.classify_clients(cube))
    assert sector["offended"].empty and "No offended clients can be named yet" in vip.vip_sentence(sector, cube)


def test_no_category_column_still_names_the_offended():
    cube = sb.build_cube(sb.load_sales(_history().drop(columns="category"), as_of="2025-12-31", odd_dates="keep",
                                       stage=True))
    hurt = vip.vip_sector(cube, sg.classify_clients(cube))["offended"]
    assert list(hurt.client_id) == ["Big"] and hurt.categories.iloc[0] == ""
