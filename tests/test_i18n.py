import re

import pytest

from salesbook.errors import ParameterError
from salesbook.i18n import LANGS, catalogue, t


def test_every_message_has_every_language_with_the_same_placeholders():
    for key, texts in catalogue().items():
        assert set(texts) == set(LANGS), key
        names = {lang: set(re.findall(r"{(\w+)}", texts[lang])) for lang in LANGS}
        assert names["en"] == names["ru"], key


def test_unknown_language_is_a_clear_error():
    with pytest.raises(ParameterError, match="lang='de'"):
        t("col.month", "de")


def test_numbers_in_each_language_by_hand():
    from salesbook.views.display import fmt_money, fmt_pct, fmt_short, using_currency
    with using_currency("RUB"):
        assert fmt_money(1234567.891, "en", 2, currency=False) == "1,234,567.89"
        assert fmt_money(1234567.891, "en", 2) == "RUB\u00a01,234,567.89"
        assert fmt_money(-1234567.891, "ru") == "−1\u00a0234\u00a0568\u00a0₽"
    assert fmt_pct(-0.0812, "ru", signed=True) == "−8,1\u00a0%" and fmt_pct(-0.0812, "en", signed=True) == "−8.1%"
    # chart labels: three significant digits, the scale as each language writes it
    assert [fmt_short(v) for v in (1_286_082_585, 124_000_000, -45_210_000, 5_300, 12)] == \
        ["1.29\u00a0bn", "124\u00a0m", "−45.2\u00a0m", "5.3\u00a0k", "12"]
    assert fmt_short(1_286_082_585, "ru") == "1,29\u00a0млрд"
