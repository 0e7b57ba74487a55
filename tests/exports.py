"""A corpus of exports as ERPs and spreadsheets really write them, made from a slice of the sample.

:func:`write_corpus` writes the same sales lines in each format of issue 26 (US dates and ``$``
amounts, UTF-16 "Unicode text", a workbook with a cover sheet, Excel serial dates, Russian and German
headers, .ods, pasted exports, ambiguous dates, ISO times with a zone). Each file either loads to the
slice's totals to the cent, or stops with one line (:data:`STOPS`).

``.xls`` (Excel 97) cannot be written by any maintained library (xlwt is dead), so
``tests/data/exports/sales.xls`` is committed: made once by :func:`write_xls` (run this module with
``xlwt`` importable: ``pip install --target /tmp/xlwt xlwt && PYTHONPATH=/tmp/xlwt python tests/exports.py``).
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

SAMPLE = Path(__file__).resolve().parents[1] / "data" / "sample" / "sales.parquet"
XLS = Path(__file__).resolve().parent / "data" / "exports" / "sales.xls"

#: files that must stop, with a word their one-line error carries
STOPS = {"ambiguous.csv": "date_format: '%d/%m/%Y'"}


def sample_slice() -> pd.DataFrame:
    """January and February 2025 of the sample, every 4th line (about 1,000 lines): small, every day."""
    df = pd.read_parquet(SAMPLE)
    part = df[(df.date >= "2025-01-01") & (df.date < "2025-03-01")].iloc[::4].reset_index(drop=True)
    return part[["date", "client_id", "client_name", "manager", "category", "quantity", "amount", "order_id"]]


def _dollars(v: float) -> str:
    return f"(${-v:,.2f})" if v < 0 else f"${v:,.2f}"


def _comma(v: float, thousands: str) -> str:
    text = f"{v:,.2f}"  # 1,234.50
    return text.replace(",", "\x00").replace(".", ",").replace("\x00", thousands)


def english(lines: pd.DataFrame, date_format: str, dollars: bool = True) -> pd.DataFrame:
    """The US office-supplies shape: ``Order Date``, ``Customer ID``, ``Sales``..."""
    return pd.DataFrame({
        "Order Date": lines.date.dt.strftime(date_format),
        "Order ID": lines.order_id,
        "Customer ID": lines.client_id,
        "Customer Name": lines.client_name,
        "Sub-Category": lines.category,
        "Salesperson": lines.manager,
        "Quantity": lines.quantity.astype(int),
        "Sales": lines.amount.map(_dollars) if dollars else lines.amount.map(lambda v: f"{v:.2f}"),
    })


def russian(lines: pd.DataFrame) -> pd.DataFrame:
    return pd.DataFrame({
        "Дата": lines.date.dt.strftime("%d.%m.%Y"), "Документ": lines.order_id, "Контрагент": lines.client_id,
        "Менеджер": lines.manager, "Номенклатурная группа": lines.category,
        "Количество": lines.quantity.astype(int), "Сумма": lines.amount.map(lambda v: _comma(v, "\u00a0")),
    })


def german(lines: pd.DataFrame) -> pd.DataFrame:
    return pd.DataFrame({
        "Rechnungsdatum": lines.date.dt.strftime("%d.%m.%Y"), "Rechnungsnummer": lines.order_id,
        "Kundennummer": lines.client_id, "Warengruppe": lines.category, "Verkäufer": lines.manager,
        "Menge": lines.quantity.astype(int), "Umsatz": lines.amount.map(lambda v: _comma(v, ".")),
    })


def write_xls(path: Path = XLS) -> Path:
    """The committed Excel 97 file (needs xlwt; see the module's docstring)."""
    import xlwt
    lines = sample_slice()
    frame = english(lines, "%d/%m/%Y", dollars=False)
    book = xlwt.Workbook()
    sheet = book.add_sheet("Sales")
    for j, col in enumerate(frame.columns):
        sheet.write(0, j, col)
    dates = xlwt.easyxf(num_format_str="DD/MM/YYYY")
    for i, row in enumerate(frame.itertuples(index=False), start=1):
        for j, value in enumerate(row):
            if j == 0:
                sheet.write(i, j, lines.date.iloc[i - 1].to_pydatetime(), dates)
            elif frame.columns[j] == "Sales":
                sheet.write(i, j, float(value))
            else:
                sheet.write(i, j, value.item() if hasattr(value, "item") else value)
    path.parent.mkdir(parents=True, exist_ok=True)
    book.save(str(path))
    return path


def write_corpus(folder: Path, lines: pd.DataFrame | None = None) -> dict[str, Path]:
    """Write every file of the corpus into ``folder``; returns name -> path."""
    lines = sample_slice() if lines is None else lines
    folder.mkdir(parents=True, exist_ok=True)
    files: dict[str, Path] = {}

    def put(name: str) -> Path:
        files[name] = folder / name
        return files[name]

    english(lines, "%d/%m/%y").to_csv(put("us_day_first.csv"), index=False)
    english(lines, "%m/%d/%y").to_csv(put("us_month_first.csv"), index=False)
    # Excel's "Unicode text": UTF-16 little-endian with a BOM, tab-separated
    text = english(lines, "%d/%m/%Y", dollars=False).to_csv(sep="\t", index=False)
    put("unicode_text.txt").write_bytes(b"\xff\xfe" + text.encode("utf-16-le"))
    put("unicode_be.txt").write_bytes(b"\xfe\xff" + text.encode("utf-16-be"))
    put("russian_bom.csv").write_bytes(b"\xef\xbb\xbf" + russian(lines).to_csv(sep=";", index=False).encode("utf-8"))
    german(lines).to_csv(put("german.csv"), sep=";", index=False, encoding="utf-8")
    serial = english(lines, "%d/%m/%Y", dollars=False)
    serial["Order Date"] = ((lines.date - pd.Timestamp("1899-12-30")).dt.days).astype(int)
    serial.to_csv(put("serial_dates.csv"), index=False)
    iso = english(lines, "%Y-%m-%dT10:30:00+03:00", dollars=False)
    iso.to_csv(put("iso_zone.csv"), index=False)
    typed = english(lines, "%d/%m/%Y", dollars=False)
    typed["Order Date"] = lines.date
    typed["Sales"] = lines.amount
    with pd.ExcelWriter(put("cover_sheet.xlsx"), engine="openpyxl") as xl:
        pd.DataFrame({"Report": ["Sales by order", "Prepared for the board", "Confidential"]}).to_excel(
            xl, sheet_name="Cover", index=False)
        typed.to_excel(xl, sheet_name="Orders", index=False)
    typed.to_excel(put("sales.ods"), index=False, engine="odf")
    pasted = english(lines, "%d/%m/%y").to_csv(index=False).splitlines()
    half = len(pasted) // 2
    put("pasted.csv").write_text("\n".join(pasted[:half] + [pasted[0]] + pasted[half:]) + "\n", encoding="utf-8")
    low = lines[(lines.date.dt.day <= 12)]
    english(low, "%d/%m/%Y", dollars=False).to_csv(put("ambiguous.csv"), index=False)
    if XLS.exists():
        files["sales.xls"] = XLS
    return files


if __name__ == "__main__":
    print(write_xls())
