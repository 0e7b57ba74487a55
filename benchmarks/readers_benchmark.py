"""How long each format of issue 26 takes to load, and calamine against openpyxl on one sheet.

    python benchmarks/readers_benchmark.py [--lines 100000] [--excel-lines 100000]

1. Spreadsheet engines: the sample's first ``--excel-lines`` lines written as one .xlsx sheet (XlsxWriter),
   read with ``pd.read_excel`` by ``calamine`` (python-calamine, the engine salesbook uses) and by
   ``openpyxl``; best of 2.
2. Each format of the test corpus (tests/exports.py) written from the sample's first ``--lines`` lines
   (the committed .xls has its own 1,248), proposed (``salesbook map``) and loaded with the proposal;
   seconds for the load alone, best of 2.

Prints one table; run on a quiet machine for figures worth comparing. Measured with --lines 50000 on 2 cores
shared with other work (the last five rows timed once, the run having hit its time limit): calamine 10.5 s,
openpyxl 78.7 s; csv/text 13.9-29.0 s, .xlsx with a cover sheet 18.0 s, .ods 17.0 s, the committed .xls
(1,248 lines) 1.4 s, Parquet 2.0 s.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from timing import best  # noqa: E402
sys.path.insert(0, str(HERE.parent / "tests"))




def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--lines", type=int, default=100_000)
    p.add_argument("--excel-lines", type=int, default=100_000)
    args = p.parse_args()
    from exports import SAMPLE, write_corpus
    from salesbook.data.load import load_sales
    from salesbook.data.propose import propose
    sample = pd.read_parquet(SAMPLE)
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        sheet = folder / "sheet.xlsx"
        sample.head(args.excel_lines).to_excel(sheet, index=False, engine="xlsxwriter")
        cal = best(lambda: pd.read_excel(sheet, engine="calamine"))
        opx = best(lambda: pd.read_excel(sheet, engine="openpyxl"))
        print(f"{args.excel_lines:,}-line .xlsx sheet: calamine {cal:.2f} s, openpyxl {opx:.2f} s "
              f"({opx / cal:.1f}x)")
        lines = sample.head(args.lines)[["date", "client_id", "client_name", "manager", "category", "quantity",
                                          "amount", "order_id"]]
        files = write_corpus(folder / "corpus", lines)
        print(f"\n| format | file | lines | load (s) |\n|---|---|---|---|")
        for name, path in files.items():
            if name == "ambiguous.csv":
                continue
            mapping = propose(path).mapping()
            if name == "pasted.csv":
                mapping.read["repeated_headers"] = "drop"
            report = load_sales(path, mapping).report
            seconds = best(lambda: load_sales(path, mapping).report)
            print(f"| {report.kind} | {name} | {report.rows_read:,} | {seconds:.2f} |")
        parquet = folder / "lines.parquet"
        lines.to_parquet(parquet)
        seconds = best(lambda: load_sales(parquet).report)
        print(f"| parquet | lines.parquet | {len(lines):,} | {seconds:.2f} |")


if __name__ == "__main__":
    main()
