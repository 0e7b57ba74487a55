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
