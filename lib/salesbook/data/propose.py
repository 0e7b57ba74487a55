"""A mapping proposed from a file: which source column is each canonical column, with evidence and confidence.

``salesbook map FILE`` prints it as a commented YAML (:meth:`Proposal.to_yaml`); ``run --mapping auto``
uses it when every required column is found with high confidence (:meth:`Proposal.confident`).

Each source column is scored for each canonical column from two things:

- its **name**, against synonyms in English and Russian, and the usual German, French and Spanish ones
  (:data:`SYNONYMS`; compared lower-case without spaces or punctuation: ``Order Date``, ``InvoiceDate``,
  ``Дата``, ``Date de facture``);
- its **content**: dates (:func:`~salesbook.data.parse.date_reading`), numbers (share readable, share
  positive, sum), ids (many distinct values, repeated), small repeated sets (categories, managers).

A name match alone gives :data:`NAME_EXACT` (or :data:`NAME_PART` when a synonym is part of the name);
content that agrees adds up to :data:`CONTENT`; a column whose content contradicts the kind (a "date"
of numbers) scores 0. ``high`` confidence is a score of :data:`HIGH` or more, ``medium``
:data:`MEDIUM`. Each source column goes to one canonical column (best scores first); the others that
scored are kept as competitors. With no amount column, ``Quantity * Price`` is proposed when both exist.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

import pandas as pd
import yaml

from salesbook.data.mapping import CANONICAL, NUMERIC, REQUIRED, ColumnMapping
from salesbook.data.parse import EXCEL_SERIAL, date_reading, human_format, parse_dates, read_amounts
from salesbook.data.readers import detect_decimal
from salesbook.i18n import t

__all__ = ["SYNONYMS", "Candidate", "Proposal", "propose", "propose_frame", "HIGH", "MEDIUM", "NAME_EXACT",
           "NAME_PART", "CONTENT", "SAMPLE_ROWS"]

NAME_EXACT, NAME_PART, CONTENT = 0.55, 0.3, 0.4
HIGH, MEDIUM = 0.75, 0.45
#: lines of a big source the proposal reads (its first ones)
SAMPLE_ROWS = 200_000


def _norm(name: str) -> str:
    return re.sub(r"[\W_]+", "", str(name).lower().replace("ё", "е"))


#: canonical column -> source names (any language), compared by :func:`_norm`
SYNONYMS: dict[str, tuple[str, ...]] = {
    "date": ("date", "orderdate", "invoicedate", "salesdate", "saledate", "documentdate", "transactiondate",
             "postingdate", "shipdate", "day", "дата", "датадокумента", "датапродажи", "датазаказа", "датаотгрузки",
             "датареализации", "период", "datum", "rechnungsdatum", "bestelldatum", "belegdatum", "datedefacture",
             "datefacture", "datedecommande", "fecha", "fechadefactura", "fechafactura", "fechapedido"),
    "client_id": ("customerid", "clientid", "customer", "client", "customercode", "clientcode", "customerno",
                  "customernumber", "accountid", "buyer", "кодклиента", "клиент", "контрагент", "покупатель",
                  "кодконтрагента", "кодпокупателя", "kundennummer", "kundennr", "kunde", "kundenid", "idclient",
                  "codeclient", "numeroclient", "idcliente", "cliente", "codigocliente"),
    "amount": ("amount", "sales", "revenue", "total", "netamount", "netsales", "sum", "turnover", "linetotal",
               "totalamount", "salesamount", "value", "сумма", "выручка", "суммабезндс", "суммапродажи",
               "суммапродаж", "стоимость", "umsatz", "betrag", "nettobetrag", "gesamtbetrag", "montant",
               "chiffredaffaires", "montantht", "importe", "ventas", "importetotal"),
    "client_name": ("customername", "clientname", "company", "companyname", "наименованиеклиента",
                    "наименованиеконтрагента", "kundenname", "firma", "nomclient", "nomduclient", "raisonsociale",
                    "nombrecliente", "nombredelcliente"),
    "manager": ("manager", "salesperson", "salesrep", "rep", "accountmanager", "owner", "менеджер", "ответственный",
                "продавец", "verkaufer", "verkäufer", "vertriebsmitarbeiter", "commercial", "vendeur", "vendedor",
                "comercial"),
    "product_id": ("productid", "productcode", "sku", "stockcode", "itemcode", "itemid", "article", "артикул",
                   "кодтовара", "кодноменклатуры", "artikelnummer", "artikelnr", "codeproduit", "reference",
                   "codigoproducto", "codigo"),
    "product_name": ("productname", "product", "description", "item", "itemname", "номенклатура", "товар",
                     "наименованиетовара", "artikel", "bezeichnung", "produkt", "artikelbezeichnung", "produit",
                     "designation", "descripcion", "producto"),
    "category": ("category", "subcategory", "productcategory", "productgroup", "group", "категория", "группа",
                 "группатоваров", "группаноменклатуры", "kategorie", "warengruppe", "produktgruppe", "categorie",
                 "famille", "categoria", "familia"),
    "quantity": ("quantity", "qty", "units", "количество", "колво", "menge", "anzahl", "quantite", "cantidad"),
    "order_id": ("orderid", "order", "invoice", "invoiceno", "invoicenumber", "ordernumber", "orderno",
                 "documentno", "document", "документ", "номердокумента", "заказ", "номерзаказа", "накладная",
                 "rechnung", "rechnungsnummer", "bestellnummer", "belegnummer", "facture", "numerofacture",
                 "commande", "factura", "pedido", "numerofactura"),
    "region": ("region", "country", "city", "state", "territory", "регион", "страна", "город", "территория",
               "land", "stadt", "gebiet", "pays", "ville", "pais", "ciudad"),
    "cost": ("cost", "cogs", "costprice", "себестоимость", "kosten", "einstandspreis", "cout", "coste", "costo"),
}
_PRICE = ("price", "unitprice", "цена", "preis", "einzelpreis", "prix", "prixunitaire", "precio", "preciounitario")

_KIND = {c: "number" if c in NUMERIC else "date" if c == "date" else "text" for c in CANONICAL}


@dataclass
class Candidate:
    """A source column (or expression) for a canonical column, its score and the evidence."""

    source: str
    score: float
    evidence: str

    @property
    def confidence(self) -> str:
        return "high" if self.score >= HIGH else "medium" if self.score >= MEDIUM else "low"


@dataclass
class Proposal:
    """The proposed mapping of one source."""

    source: str
    chosen: dict[str, Candidate] = field(default_factory=dict)
    others: dict[str, list[Candidate]] = field(default_factory=dict)
    read: dict[str, Any] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)

    def mapping(self) -> ColumnMapping:
        """The proposal as a mapping (every column marked guessed)."""
        order = [c for c in CANONICAL if c in self.chosen]
        return ColumnMapping({c: self.chosen[c].source for c in order}, dict(self.read),
                             f"proposed for {self.source}", None, tuple(order))

    def weak(self) -> list[str]:
        """Required columns not found with high confidence."""
        return [c for c in REQUIRED if c not in self.chosen or self.chosen[c].confidence != "high"]

    def confident(self) -> bool:
        """Every required column found with high confidence (``run --mapping auto`` uses it then)."""
        return not self.weak()

    def to_yaml(self, lang: str = "en") -> str:
        """The proposal as a commented YAML mapping, ready for ``--mapping``."""
        out = [f"# {t('map.header', lang, source=self.source)}", f"# {t('map.check', lang)}"]
        out += [f"# {n}" for n in self.notes]
        out.append("columns:")
        for canon in CANONICAL:
            cand = self.chosen.get(canon)
            if cand is None:
                if canon in REQUIRED:
                    out.append(f"  # {canon}: ?   # {t('map.not_found', lang)}")
                continue
            out.append(f"  {canon}: {_scalar(cand.source)}   # {t('map.conf.' + cand.confidence, lang)}: "
                       f"{cand.evidence}")
            for other in self.others.get(canon, [])[:2]:
                out.append(f"  # {canon}: {_scalar(other.source)}   # {t('map.other', lang)}, "
                           f"{t('map.conf.' + other.confidence, lang)}: {other.evidence}")
        if self.read:
            out.append("read:")
            for key, value in self.read.items():
                out.append(f"  {key}: {_scalar(value)}")
        out.append("guessed: [" + ", ".join(c for c in CANONICAL if c in self.chosen) + "]")
        return "\n".join(out) + "\n"


def _scalar(value: Any) -> str:
    text = yaml.safe_dump(value, default_flow_style=True, allow_unicode=True, width=10_000).strip()
    return text[:-4].strip() if text.endswith("\n...") or text.endswith(" ...") else text.removesuffix("...").strip()


# --------------------------------------------------------------------------- content


@dataclass
class _Profile:
    """What a column's values look like."""

    name: str
    kind: str  # "date", "number", "text", "empty"
    n: int
    distinct: int
    readable: float = 0.0  # share of non-empty values read as its kind
    positive: float = 0.0
    total: float = 0.0
    integers: float = 0.0
    date_fmt: str | None = None
    date_note: str = ""
    first: Any = None
    last: Any = None
    ambiguous: tuple[str, ...] = ()


def _profile(name: str, values: pd.Series, lang: str = "en") -> _Profile:
    present = values.dropna()
    if pd.api.types.is_string_dtype(present) or present.dtype == object:
        present = present[present.astype(str).str.strip() != ""]
    n = len(present)
    if n == 0:
        return _Profile(name, "empty", 0, 0)
    distinct = int(present.astype(str).nunique())
    if pd.api.types.is_datetime64_any_dtype(values):
        return _Profile(name, "date", n, distinct, 1.0, date_fmt="typed", first=present.min(), last=present.max())
    reading = date_reading(present.head(20000))
    if reading.fmt and reading.fmt != "typed":
        parsed, bad = parse_dates(present, reading.fmt)
        ok = 1 - float(bad.mean())
        if ok >= 0.95:
            note = ""
            if reading.order in ("day-first", "month-first") and reading.extra:
                over = reading.extra["first_over_12" if reading.order == "day-first" else "second_over_12"]
                note = t(f"map.ev.{reading.order}", lang, n=over) if over else ""
            return _Profile(name, "date", n, distinct, ok, date_fmt=reading.fmt, date_note=note,
                            first=parsed.min(), last=parsed.max())
    if reading.ambiguous:
        return _Profile(name, "date", n, distinct, 1.0, date_note=reading.evidence, ambiguous=reading.readings)
    if pd.api.types.is_numeric_dtype(present):
        num = present.astype("float64")
        ok = 1.0
    elif read_amounts(present.head(200).astype("string"), detect_decimal(present.head(200)))[1].mean() > 0.05:
        return _Profile(name, "text", n, distinct, 1.0)  # not numbers: the whole column is not read as such
    else:
        num, bad, _ = read_amounts(present.astype("string"), detect_decimal(present))
        ok = 1 - float(bad.mean())
        num = num[~bad]
    if ok >= 0.95 and len(num):
        return _Profile(name, "number", n, distinct, ok, positive=float((num > 0).mean()), total=float(num.sum()),
                        integers=float((num == num.round()).mean()))
    return _Profile(name, "text", n, distinct, 1.0)


def _short_number(x: float) -> str:
    for size, suffix in ((1e9, " B"), (1e6, " M"), (1e3, " k")):
        if abs(x) >= size:
            return f"{x / size:.2f}{suffix}"
    return f"{x:.2f}"


def _content(canon: str, p: _Profile, rows: int, lang: str) -> tuple[float, str]:
    """Score (0..CONTENT, or -1 for a contradiction) and evidence of ``p``'s values for ``canon``."""
    kind = _KIND[canon]
    if p.kind == "empty":
        return -1, t("map.ev.empty", lang)
    if kind == "date":
        if p.kind != "date":
            return -1, ""
        if p.ambiguous:
            return CONTENT, t("map.ev.ambiguous", lang, day=p.ambiguous[0], month=p.ambiguous[1])
        span = f"{pd.Timestamp(p.first):%Y-%m-%d}..{pd.Timestamp(p.last):%Y-%m-%d}"
        fmt = "typed" if p.date_fmt == "typed" else human_format(p.date_fmt)
        ev = t("map.ev.dates", lang, format=fmt, span=span)
        return CONTENT * p.readable, ev + (f" ({p.date_note})" if p.date_note else "")
    if kind == "number":
        if p.kind != "number":
            return -1, ""
        ev = t("map.ev.numbers", lang, positive=f"{100 * p.positive:.1f} %", total=_short_number(p.total))
        score = CONTENT * p.readable
        if canon == "amount":
            score *= 1.0 if p.integers < 0.9 else 0.6  # whole numbers everywhere: quantities or ids more likely
            score *= 1.0 if p.positive >= 0.8 else 0.5
        elif canon == "quantity":
            score *= 1.0 if p.integers >= 0.95 else 0.4
        return score, ev
    # text columns: ids, names, small sets
    if p.kind == "date":
        return -1, ""
    if p.kind == "number" and p.integers < 0.99:
        return -1, ""  # decimals are not ids or names
    per = p.n / max(p.distinct, 1)
    ev_ids = t("map.ev.ids", lang, distinct=p.distinct, per=f"{per:.1f}")
    if canon in ("client_id", "product_id", "order_id"):
        good = p.distinct >= 5 and per >= 1.0
        return (CONTENT if good and per >= 1.5 else CONTENT / 2 if good else 0), ev_ids
    if canon in ("category", "manager", "region"):
        small = 2 <= p.distinct <= 200 and per >= 5
        return (CONTENT if small else 0), t("map.ev.set", lang, distinct=p.distinct)
    return (CONTENT / 2 if p.kind == "text" else 0), ev_ids


def _name(canon: str, column: str) -> tuple[float, str]:
    norm = _norm(column)
    words = SYNONYMS[canon]
    if norm in words:
        return NAME_EXACT, column
    part = [w for w in words if len(w) >= 4 and w in norm]
    if part:
        return NAME_PART, column
    return 0.0, ""


def propose_frame(frame: pd.DataFrame, source: str, lang: str = "en", read: dict[str, Any] | None = None,
                  rows: int | None = None) -> Proposal:
    """Propose a mapping for the columns of ``frame`` (cells as a reader returns them, or typed values)."""
    columns = [c for c in frame.columns if c != "_row"]
    profiles = {c: _profile(c, frame[c], lang) for c in columns}
    rows = rows or len(frame)
    scored: list[tuple[float, str, Candidate]] = []
    for canon in CANONICAL:
        for col in columns:
            by_name, _ = _name(canon, col)
            by_content, evidence = _content(canon, profiles[col], rows, lang)
            if by_content < 0 or (by_name == 0 and by_content < CONTENT * 0.9):
                continue
            if by_name == 0 and _KIND[canon] == "text" and canon not in ("client_id",):
                continue  # a text column says what it is by its name only
            if by_name == 0 and canon in ("quantity", "cost"):
                continue
            score = by_name + by_content
            why = (t("map.ev.name", lang, name=col) + "; " if by_name else "") + evidence
            scored.append((score, canon, Candidate(col, round(score, 2), why)))
    scored.sort(key=lambda s: (-s[0], CANONICAL.index(s[1])))
    proposal = Proposal(source, read=dict(read or {}))
    used: set[str] = set()
    for score, canon, cand in scored:
        if canon in proposal.chosen or cand.source in used:
            if canon != "amount" or cand.source not in used:
                proposal.others.setdefault(canon, []).append(cand)
            continue
        proposal.chosen[canon] = cand
        used.add(cand.source)
    _quantity_times_price(proposal, profiles, columns, lang)
    date = proposal.chosen.get("date")
    if date is not None:
        p = profiles[date.source]
        if p.ambiguous:
            proposal.notes.append(t("map.ambiguous_note", lang, day=p.ambiguous[0], month=p.ambiguous[1]))
        elif p.date_fmt and p.date_fmt not in ("typed", EXCEL_SERIAL) and "date_format" not in proposal.read:
            proposal.read["date_format"] = p.date_fmt
    # keep competitors only for columns they did not win elsewhere
    for canon in list(proposal.others):
        proposal.others[canon] = [c for c in proposal.others[canon]
                                  if proposal.chosen.get(canon) is None or c.source != proposal.chosen[canon].source]
    return proposal


def _quantity_times_price(proposal: Proposal, profiles: dict[str, _Profile], columns: list[str], lang: str) -> None:
    """With no amount column found by its name: ``Quantity * Price`` when both are there."""
    amount = proposal.chosen.get("amount")
    if amount is not None and _name("amount", amount.source)[0] > 0:
        return
    qty = proposal.chosen.get("quantity")
    price = next((c for c in columns if _norm(c) in _PRICE and profiles[c].kind == "number"), None)
    if qty is None or price is None:
        return
    if amount is not None:
        proposal.others.setdefault("amount", []).insert(0, amount)
    expr = f"`{qty.source}` * `{price}`" if not (qty.source.isidentifier() and price.isidentifier()) \
        else f"{qty.source} * {price}"
    proposal.chosen["amount"] = Candidate(expr, HIGH, t("map.ev.product", lang, quantity=qty.source, price=price))


def propose(source: Any, lang: str = "en", sample_rows: int = SAMPLE_ROWS, **options: Any) -> Proposal:
    """Read ``source`` (a path, ``sample``, an engine source) and propose its mapping.

    Text files and spreadsheets are read whole (the sheet with the most rows when none holds canonical
    names); typed sources give their first ``sample_rows`` lines.
    """
    from salesbook.data.load import connect, read_source, unreadable_as_data_error
    from salesbook.data.engines import is_engine_source
    con = None if is_engine_source(source) else connect()
    with unreadable_as_data_error(source):
        read = read_source(source, ColumnMapping(), dict(options), con=con, largest=True)
    extra: dict[str, Any] = {}
    if read.frame is not None:
        frame = read.frame
        rows = len(frame)
        d = read.detected
        if d.sheet is not None and len(d.sheets) > 1:
            extra["sheet"] = d.sheet
    else:
        rows = int(read.table.count().execute())
        frame = read.table.limit(sample_rows).to_pandas()
    proposal = propose_frame(frame, read.where, lang, extra, rows)
    if rows > len(frame):
        proposal.notes.append(t("map.sampled", lang, n=f"{len(frame):,}", rows=f"{rows:,}"))
    return proposal


def auto_mapping(source: Any, lang: str = "en") -> str:
    """The proposal's YAML for ``run --mapping auto``; a :class:`ParameterError` naming the weak columns
    when a required column is not found with high confidence."""
    from salesbook.errors import ParameterError
    proposal = propose(source, lang)
    if not proposal.confident():
        raise ParameterError(t("map.low_confidence", "en", columns=", ".join(proposal.weak()), source=source))
    return proposal.to_yaml(lang)


def is_missing_columns(exc: Exception) -> bool:
    """``exc`` is a load error about required columns missing (the file's columns are not canonical)."""
    return any(str(getattr(p, "message", "")).startswith("required column is missing")
               for p in getattr(exc, "problems", []))


__all__ += ["auto_mapping", "is_missing_columns"]
