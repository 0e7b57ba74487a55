"""A deterministic sample company that tells the stagnation story of DOMAIN.md.

A B2B distributor: managers win clients and keep servicing them; a manager's
chance of winning a client falls as their active portfolio approaches their
capacity; each client's purchases grow by cross-selling new categories up to
its own ceiling, then saturate; a few clients stop buying (lost), some fall
asleep and some of those come back; sales follow a clear season.

``generate(SampleSpec())`` returns the sales lines, the pipeline and the
planted facts; ``write_sample(folder)`` writes the committed sample. The
growing company used by the tests is ``SampleSpec.growing()``; ``SampleSpec.no_story()`` is a company
with no planted effect (the placebo of every comparison), and :func:`shuffle_managers` takes the
client -> manager assignment out of any lines.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

__all__ = ["SampleSpec", "generate", "write_sample", "write_1c_export", "shuffle_managers", "SEASON"]

#: planted multiplicative season by calendar month (mean 1)
SEASON = np.array([0.62, 0.82, 1.14, 1.20, 1.06, 0.98, 0.90, 0.88, 1.08, 1.14, 1.10, 1.08])
SEASON = SEASON / SEASON.mean()

CATEGORIES = ["Подшипники", "Крепёж", "Инструмент", "Электротехника", "Гидравлика", "Пневматика",
              "Смазочные материалы", "Спецодежда", "Сварка", "Абразивы", "Трубопроводная арматура",
              "Упаковка"]
_SURNAMES = ["Иванов", "Петрова", "Сидоров", "Кузнецова", "Смирнов", "Попова", "Васильев", "Новикова",
             "Фёдоров", "Морозова", "Волков", "Алексеева", "Лебедев", "Семёнова", "Егоров", "Павлова",
             "Козлов", "Степанова", "Николаев", "Орлова", "Андреев", "Макарова", "Захаров", "Зайцева",
             "Соловьёв", "Борисова", "Яковлев", "Григорьева", "Романов", "Воробьёва"]
_INITIALS = ["А.В.", "Е.С.", "И.П.", "О.Н.", "Д.А.", "М.Ю.", "С.Г.", "Т.В.", "Н.К.", "Ю.Б."]
_NAME_A = ["Альфа", "Вектор", "Гранит", "Дельта", "Заря", "Импульс", "Кристалл", "Лидер", "Магистраль",
           "Нева", "Орион", "Прогресс", "Ресурс", "Сигма", "Техно", "Урал", "Феникс", "Элемент", "Стрела",
           "Волга", "Енисей", "Кедр", "Сфера", "Мега", "Полюс", "Агро", "Север", "Восток", "Юг", "Опора"]
_NAME_B = ["Строй", "Маш", "Пром", "Снаб", "Монтаж", "Сервис", "Завод", "Трейд", "Холдинг", "Энерго",
           "Металл", "Комплект", "Инжиниринг", "Логистик", "Ремонт"]
_FORMS = ["ООО", "АО", "ООО", "ООО", "ИП", "ПАО", "ООО"]
_CITIES = ["Москва", "Санкт-Петербург", "Екатеринбург", "Казань", "Нижний Новгород", "Самара",
           "Пермь", "Челябинск", "Тула", "Воронеж"]

#: a planted client whose name is markup and formula: reports must show it inert
HOSTILE_NAME = '=HYPERLINK("http://x","Ромашка") <script>alert(1)</script> & Co'


@dataclass(frozen=True)
class SampleSpec:
    """Parameters of the generated company (every number a knob)."""

    seed: int = 20261031
    start: str = "2021-11-01"
    months: int = 60
    managers: int = 25
    categories: int = 12
    products: int = 300
    initial_clients_per_manager: int = 14
    #: tenure of the clients already there when the data start, drawn from 0..this many months
    initial_tenure_months: int = 24
    #: new clients a month a manager wins with an empty portfolio
    hunting_rate: float = 2.8
    #: active clients at which a manager stops winning new ones
    capacity: float = 42.0
    #: per-client ceiling of categories, drawn from 1..max
    max_categories: int = 6
    #: months of tenure per extra category cross-sold
    months_per_category: float = 7.0
    #: revenue lift of each extra category, relative to the first
    category_lift: float = 0.55
    #: monthly probability that an active client is lost for good
    loss_rate: float = 0.014
    #: monthly probability that an active client falls asleep (may come back)
    sleep_rate: float = 0.006
    #: monthly probability that a sleeping client comes back
    wake_rate: float = 0.05
    big_clients: int = 6
    return_share: float = 0.02
    duplicate_lines: int = 12
    pipeline_deals: int = 180
    #: hand-overs (off in the committed sample): this share of the clients won during the data pass, in the
    #: month after their ``handover_after_deals``-th deal, to one of ``account_managers`` account managers;
    #: ``handover_stop`` of the handed clients stop buying within 3 months of it
    handover_share: float = 0.0
    handover_after_deals: int = 2
    handover_stop: float = 0.5
    account_managers: int = 5
    #: planted regular clients that fall asleep before the end, and that pause and come back at the end
    planted_sleepers: int = 45
    planted_reactivated: int = 25
    #: the planted season (False: every month alike)
    seasonal: bool = True
    #: price erosion (off in the committed sample): in the last ``price_cut_months`` months, ``price_cut_share``
    #: of the products sell ``price_cut`` below their list price (the units bought do not change)
    price_cut: float = 0.0
    price_cut_share: float = 0.4
    price_cut_months: int = 12

    @classmethod
    def price_erosion(cls, **kw: Any) -> "SampleSpec":
        """The committed company, where 40 % of the products sell 12 % below list price over the last 12 months
        (the same units as before: the walk must find the fall in price, not in volume)."""
        base = dict(price_cut=0.12)
        base.update(kw)
        return cls(**base)

    @classmethod
    def handovers(cls, **kw: Any) -> "SampleSpec":
        """The committed company, where hunters hand 40 % of the clients they win to five account managers
        after the 2nd deal, and half of those handed clients stop buying soon after."""
        base = dict(handover_share=0.4)
        base.update(kw)
        return cls(**base)

    @classmethod
    def no_story(cls, **kw: Any) -> "SampleSpec":
        """A company with no planted effect: managers never fill up (acquisition at a constant rate), the
        active base starts at its steady state (1.0 new client a month per manager against 2.5 % lost a
        month: 40 clients each), every client buys its whole assortment from the start with no growth
        (no cross-sell), no planted sleepers or comebacks, no season, no hand-overs. Every comparison
        of the workbooks must find nothing here (tests/test_placebo.py)."""
        base = dict(seed=11, hunting_rate=1.0, capacity=1e12, initial_clients_per_manager=40, loss_rate=0.025,
                    months_per_category=1e-9, category_lift=0.0, planted_sleepers=0, planted_reactivated=0,
                    seasonal=False)
        base.update(kw)
        return cls(**base)

    @classmethod
    def growing(cls, **kw: Any) -> "SampleSpec":
        """A company that keeps hunting: high capacity, steady acquisition, growing turnover."""
        base = dict(seed=7, hunting_rate=1.1, capacity=10_000.0, initial_clients_per_manager=4,
                    loss_rate=0.006)
        base.update(kw)
        return cls(**base)


@dataclass
class Sample:
    lines: pd.DataFrame
    pipeline: pd.DataFrame
    planted: dict[str, Any] = field(default_factory=dict)


def _names(rng: np.random.Generator, n: int) -> list[str]:
    out, seen = [], set()
    while len(out) < n:
        name = (f'{rng.choice(_FORMS)} "{rng.choice(_NAME_A)}{rng.choice(_NAME_B)}'
                f'{"-" + str(rng.integers(1, 99)) if rng.random() < 0.5 else ""}"')
        if name in seen:
            continue
        seen.add(name)
        out.append(name)
    return out


def _manager_name(i: int) -> str:
    """The ``i``-th manager's name, distinct for every ``i``: the first 30 as in the committed sample (surname
    and initials in step), then each surname with the other initials, then a number (``Иванов А.В. 2``)."""
    n_s, n_i = len(_SURNAMES), len(_INITIALS)
    turn, k = divmod(i, n_s)
    name = f"{_SURNAMES[k]} {_INITIALS[(k + turn) % n_i]}"
    return name if i < n_s * n_i else f"{name} {i // (n_s * n_i) + 1}"


def generate(spec: SampleSpec = SampleSpec()) -> Sample:
    """Simulate the company month by month, then write its sales lines."""
    rng = np.random.default_rng(spec.seed)
    months = pd.date_range(spec.start, periods=spec.months, freq="MS")
    as_of = (months[-1] + pd.offsets.MonthEnd(0)).normalize()
    managers = [_manager_name(i) for i in range(spec.managers)]
    cats = CATEGORIES[: spec.categories]
    per_cat = max(1, spec.products // len(cats))
    products = pd.DataFrame({
        "product_id": [f"P{c:02d}{k:03d}" for c in range(len(cats)) for k in range(per_cat)],
        "category": [cats[c] for c in range(len(cats)) for _ in range(per_cat)],
        "price": np.round(np.exp(rng.normal(7.3, 0.9, len(cats) * per_cat)), 2),
    })
    products["product_name"] = [f"{cat} {pid[-3:]}" for cat, pid in zip(products.category, products.product_id)]

    # ---- client life-cycles at the month level
    clients: list[dict[str, Any]] = []

    def new_client(manager: int, month: int) -> dict[str, Any]:
        size = float(np.exp(rng.normal(10.9, 0.75)))  # monthly spend of the first category
        return {"manager": manager, "start": month, "size": size,
                "freq": float(np.clip(np.exp(rng.normal(0.2, 0.6)), 0.25, 5.0)),
                "kmax": int(rng.integers(1, spec.max_categories + 1)),
                "cats": list(rng.choice(len(cats), spec.max_categories, replace=False)),
                "state": "active", "sleep_until": -1, "history": []}

    for j in range(spec.managers):
        for _ in range(spec.initial_clients_per_manager):
            clients.append(new_client(j, -int(rng.integers(0, spec.initial_tenure_months + 1))))
    big = rng.choice(len(clients), spec.big_clients, replace=False)
    for b in big:
        clients[b]["size"] *= 14.0
        clients[b]["kmax"] = spec.max_categories
        clients[b]["freq"] = 4.0

    active_by_month = np.zeros((spec.months, spec.managers))
    new_by_month = np.zeros((spec.months, spec.managers))
    for m in range(spec.months):
        for c in clients:  # state changes
            if c["state"] == "active" and c["start"] < m:
                u = rng.random()
                if u < spec.loss_rate:
                    c["state"] = "lost"
                elif u < spec.loss_rate + spec.sleep_rate:
                    c["state"] = "sleeping"
            elif c["state"] == "sleeping" and rng.random() < spec.wake_rate:
                c["state"] = "active"
        active = np.zeros(spec.managers)
        for c in clients:
            if c["state"] == "active":
                active[c["manager"]] += 1
        active_by_month[m] = active
        for j in range(spec.managers):  # hunting, slowed by the portfolio to service
            free = max(0.0, 1.0 - active[j] / spec.capacity)
            n_new = rng.poisson(spec.hunting_rate * free ** 1.5) if m > 0 else 0
            new_by_month[m, j] = n_new
            for _ in range(n_new):
                clients.append(new_client(j, m))
        for c in clients:
            if c["state"] == "active" and c["start"] <= m:
                c["history"].append(m)

    # ---- planted sleepers and reactivated clients (explicit, documented)
    last_m = spec.months - 1
    eligible = [i for i, c in enumerate(clients)
                if c["start"] <= last_m - 30 and len(c["history"]) >= 20 and c["state"] == "active"
                and i not in set(big)]
    pick = rng.choice(eligible, size=min(len(eligible), spec.planted_sleepers + spec.planted_reactivated),
                      replace=False)
    planted_sleep, planted_react = [], []
    for k, i in enumerate(pick):
        c = clients[i]
        if k < spec.planted_sleepers:  # stops 8..20 months before the end and stays asleep
            stop = last_m - int(rng.integers(8, 21))
            c["history"] = [h for h in c["history"] if h <= stop]
            c["state"] = "sleeping"
            planted_sleep.append(i)
        else:  # a gap of 8..14 months ending in the last 2 months
            back = last_m - int(rng.integers(0, 2))
            gap = int(rng.integers(8, 15))
            c["history"] = [h for h in c["history"] if h < back - gap] + list(range(back, last_m + 1))
            c["state"] = "active"
            c["force"] = back  # the comeback month has at least one order
            planted_react.append(i)

    # ---- client names and ids
    names = _names(rng, len(clients))
    hostile_at = int(rng.integers(0, len(clients)))
    names[hostile_at] = HOSTILE_NAME
    ids = [f"C{i + 1:05d}" for i in range(len(clients))]
    cities = rng.choice(_CITIES, len(clients))

    # ---- sales lines
    rows: list[tuple] = []
    order_no = 0
    pid = products.product_id.to_numpy()
    pname = products.product_name.to_numpy()
    pcat = products.category.to_numpy()
    price_of = products.price.to_numpy()
    prod_by_cat = {ci: np.flatnonzero(pcat == cats[ci]) for ci in range(len(cats))}
    bdays = [pd.bdate_range(mo, mo + pd.offsets.MonthEnd(0)).to_numpy() for mo in months]
    season = SEASON[months.month.to_numpy() - 1] if spec.seasonal else np.ones(len(months))
    # planted hand-overs: a separate generator, so the committed sample (share 0) is drawn exactly as before
    hand_rng = np.random.default_rng(spec.seed + 1)
    # planted price erosion: its own generator too; units are drawn at list price, amounts at the cut price
    cut_rng = np.random.default_rng(spec.seed + 2)
    cut = np.zeros(len(products), dtype=bool)
    if spec.price_cut > 0:
        cut[cut_rng.choice(len(products), int(round(spec.price_cut_share * len(products))), replace=False)] = True
    cut_from = spec.months - spec.price_cut_months
    handed: dict[int, int] = {}  # client -> month of its hand-over
    account = list(range(spec.managers - spec.account_managers, spec.managers))
    for i, c in enumerate(clients):
        deals, to_hand = 0, spec.handover_share > 0 and c["start"] >= 0 and hand_rng.random() < spec.handover_share
        keeper = int(hand_rng.choice(account)) if to_hand else -1
        history = list(c["history"])
        if to_hand and hand_rng.random() < spec.handover_stop:
            c["stop_after_hand"] = int(hand_rng.integers(1, 4))  # one to three months with the new manager
        for m in history:
            if i in handed and "stop_after_hand" in c and m > handed[i] + c["stop_after_hand"]:
                break  # an abandoned client: gone soon after the hand-over
            if i in handed:
                c["manager_now"] = keeper
            tenure = m - c["start"]
            k = min(c["kmax"], 1 + int(tenure / spec.months_per_category))
            month_value = c["size"] * (1 + spec.category_lift * (k - 1)) * season[m]
            n_orders = rng.poisson(c["freq"])
            if m == c.get("force"):
                n_orders = max(1, n_orders)
            if to_hand and i not in handed:  # the trigger's deal is the last of its month
                n_orders = min(n_orders, spec.handover_after_deals - deals)
            for _ in range(n_orders):
                order_no += 1
                day = bdays[m][int(rng.integers(0, len(bdays[m])))]
                order_value = month_value / c["freq"] * float(np.exp(rng.normal(0, 0.35)))
                n_lines = int(rng.integers(1, k + 2))
                shares = rng.dirichlet(np.ones(n_lines))
                order = f"РН-{order_no:06d}"
                used: set[int] = set()
                for share in shares:
                    ci = c["cats"][int(rng.integers(0, k))]
                    p = prod_by_cat[ci][int(rng.integers(0, len(prod_by_cat[ci])))]
                    if p in used:  # one line per product in an order
                        continue
                    used.add(p)
                    qty = max(1, int(round(order_value * share / price_of[p])))
                    amount = round(qty * float(price_of[p]), 2)
                    if cut[p] and m >= cut_from:  # sold below list price (never in the committed sample)
                        amount = round(qty * round(float(price_of[p]) * (1 - spec.price_cut), 2), 2)
                    rows.append((day, ids[i], names[i], managers[c.get("manager_now", c["manager"])], pid[p],
                                 pname[p], pcat[p],
                                 float(qty), amount, order, cities[i], round(amount * 0.74, 2)))
            deals += n_orders
            if to_hand and i not in handed and deals >= spec.handover_after_deals:
                handed[i] = m  # its next purchase month is the new manager's
    lines = pd.DataFrame(rows, columns=["date", "client_id", "client_name", "manager", "product_id",
                                        "product_name", "category", "quantity", "amount", "order_id",
                                        "region", "cost"])
    # returns: a share of lines comes back partly, 1..30 days later, within the period
    ret = lines.sample(frac=spec.return_share, random_state=spec.seed % 2**31).copy()
    back_qty = np.maximum(1, np.floor(ret.quantity * rng.uniform(0.1, 1.0, len(ret))))
    unit = ret.amount / ret.quantity
    ret["date"] = ret["date"] + pd.to_timedelta(rng.integers(1, 31, len(ret)), unit="D")
    ret["quantity"] = -back_qty
    ret["amount"] = -np.round(back_qty * unit, 2)
    ret["cost"] = -np.round(back_qty * unit * 0.74, 2)
    ret["order_id"] = ["ВЗ-" + o[3:] for o in ret.order_id]
    ret = ret[ret.date <= as_of]
    # a few lines exported twice, as ERP exports sometimes do (documented, counted by the loader)
    dups = lines.sample(n=spec.duplicate_lines, random_state=spec.seed % 2**31 + 1)
    lines = pd.concat([lines, ret, dups]).sort_values(["date", "order_id", "product_id"], kind="stable")
    lines = lines.reset_index(drop=True)
    lines["date"] = lines["date"].astype("datetime64[us]")

    pipeline = _pipeline(rng, spec, clients, ids, names, managers, as_of)
    planted = {
        "as_of": str(as_of.date()), "first_month": str(months[0].date()), "months": spec.months,
        "season_index": [round(float(s), 4) for s in SEASON],
        "sleeping_clients": sorted(ids[i] for i in planted_sleep),
        "reactivated_clients": sorted(ids[i] for i in planted_react),
        "big_clients": sorted(ids[int(b)] for b in big),
        "hostile_name_client": ids[hostile_at],
        "duplicate_lines": spec.duplicate_lines,
        "return_lines": int(len(ret)),
        "handed_over_clients": sorted(ids[i] for i in handed),
        **({"price_cut_products": sorted(str(x) for x in pid[cut])} if spec.price_cut > 0 else {}),
        "new_clients_per_year": {str(y): int(v) for y, v in
                                 pd.Series(new_by_month.sum(axis=1), index=months.year).groupby(level=0).sum().items()},
        "spec": asdict(spec),
    }
    return Sample(lines, pipeline, planted)


STAGES = {30: "Расчёт отправлен", 50: "Предложение подходит", 70: "Согласовано с ЛПР",
          90: "Известна дата заказа", 100: "Выставлен счёт"}


def _pipeline(rng, spec, clients, ids, names, managers, as_of) -> pd.DataFrame:
    active = [i for i, c in enumerate(clients) if c["state"] == "active"]
    pick = rng.choice(active, size=min(spec.pipeline_deals, len(active)), replace=False)
    rows = []
    for n, i in enumerate(pick):
        c = clients[i]
        offset = int(rng.integers(-2, 7))  # a few stale deals: expected month already passed
        month = (as_of + pd.offsets.MonthBegin(offset)).normalize()
        stage = int(rng.choice([30, 50, 70, 90, 100], p=[0.35, 0.25, 0.2, 0.12, 0.08]))
        rows.append({"deal_id": f"D{n + 1:04d}", "client_id": ids[i], "client_name": names[i],
                     "manager": managers[c["manager"]],
                     "amount": round(float(c["size"] * rng.uniform(0.5, 2.5)), -2),
                     "expected_month": month.strftime("%Y-%m"), "stage": stage,
                     "stage_name": STAGES[stage]})
    return pd.DataFrame(rows).sort_values(["expected_month", "manager", "deal_id"]).reset_index(drop=True)


def shuffle_managers(lines: pd.DataFrame, seed: int = 0) -> pd.DataFrame:
    """A copy of ``lines`` with the managers shuffled within each calendar month: the placebo of every
    finding about who serves whom.

    Each order (``order_id``; without one, a client's day) keeps one manager, drawn without replacement
    from the managers of that month's orders: every manager keeps his number of orders in every month,
    the company's totals do not move, and a client's manager is a fresh draw at every order (no stable
    assignment). Lines without a manager stay without one. Seeded: the same ``seed``, the same copy."""
    rng = np.random.default_rng(seed)
    out = lines.copy()
    date = pd.to_datetime(out["date"])
    order = (out["order_id"].astype(str) if "order_id" in out
             else out["client_id"].astype(str) + "|" + date.dt.strftime("%Y-%m-%d"))
    key = pd.DataFrame({"month": date.dt.to_period("M").to_numpy(), "order": order.to_numpy(),
                        "manager": out["manager"].to_numpy()})
    orders = key[key.manager.notna()].drop_duplicates(["month", "order"]).reset_index(drop=True)
    drawn = orders.manager.to_numpy(dtype=object).copy()
    for rows in orders.groupby("month").indices.values():
        drawn[rows] = drawn[rng.permutation(rows)]
    new = pd.Series(drawn, index=pd.MultiIndex.from_frame(orders[["month", "order"]]))
    got = new.reindex(pd.MultiIndex.from_frame(key[["month", "order"]])).to_numpy()
    out["manager"] = np.where(key.manager.notna().to_numpy(), got, out["manager"].to_numpy())
    return out


# --------------------------------------------------------------------------- writing


_1C_HEADERS = {"date": "Дата", "order_id": "Документ", "client_id": "Контрагент", "manager": "Менеджер",
               "product_name": "Номенклатура", "category": "Номенклатурная группа",
               "quantity": "Количество", "amount": "Сумма", "region": "Регион"}


def _ru_number(x: float, decimals: int = 2) -> str:
    text = f"{abs(x):,.{decimals}f}".replace(",", "\u00a0").replace(".", ",")
    return ("-" if x < 0 else "") + text


def write_1c_export(lines: pd.DataFrame, path: Path, title: str = "Продажи по контрагентам") -> pd.DataFrame:
    """Write ``lines`` the way 1C saves a sales report: cp1251, ';', decimal comma, Russian headers.

    The client column holds the client's name (1C exports names, not codes), a
    title line sits above the header and an "Итого" row closes the table.
    Returns the lines written (for checking totals).
    """
    out = pd.DataFrame({
        "Дата": lines.date.dt.strftime("%d.%m.%Y"),
        "Документ": lines.order_id,
        "Контрагент": lines.client_name,
        "Менеджер": lines.manager,
        "Номенклатура": lines.product_name,
        "Номенклатурная группа": lines.category,
        "Количество": [_ru_number(q, 3) for q in lines.quantity],
        "Сумма": [_ru_number(a) for a in lines.amount],
        "Регион": lines.region,
    })
    total = ["Итого", "", "", "", "", "", _ru_number(lines.quantity.sum(), 3), _ru_number(lines.amount.sum()), ""]
    body = out.to_csv(sep=";", index=False, lineterminator="\r\n")
    text = f"{title}\r\n\r\n" + body + ";".join(total) + "\r\n"
    path.write_bytes(text.encode("cp1251"))
    return lines


def write_sample(folder: Path, spec: SampleSpec = SampleSpec()) -> Sample:
    """Write the committed sample: sales.parquet, pipeline.csv, planted.json, a 1C-style export."""
    folder.mkdir(parents=True, exist_ok=True)
    s = generate(spec)
    s.lines.to_parquet(folder / "sales.parquet", index=False, compression="zstd")
    s.pipeline.to_csv(folder / "pipeline.csv", index=False, encoding="utf-8")
    # 1C-style export of part of the same data: the last quarter, clients with plain names
    part = s.lines[(s.lines.date >= pd.Timestamp(s.planted["as_of"]) - pd.offsets.MonthBegin(3))
                   & (s.lines.client_id != s.planted["hostile_name_client"])]
    write_1c_export(part, folder / "sales_1c_last_quarter.csv")
    s.planted["export_1c"] = {"file": "sales_1c_last_quarter.csv", "lines": int(len(part)),
                              "amount": round(float(part.amount.sum()), 2),
                              "first_date": str(part.date.min().date()), "last_date": str(part.date.max().date())}
    (folder / "planted.json").write_text(json.dumps(s.planted, ensure_ascii=False, indent=1), encoding="utf-8")
    return s
