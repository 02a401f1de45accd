import re
from pathlib import Path

import pytest

from minqing.i18n import LANGS, catalog, fmt_date, fmt_month, t

SRC = Path(__file__).resolve().parents[1] / "src" / "minqing"


def test_catalogs_have_the_same_keys():
    zh, en = set(catalog("zh")), set(catalog("en"))
    assert zh - en == set(), f"missing in en: {sorted(zh - en)}"
    assert en - zh == set(), f"missing in zh: {sorted(en - zh)}"


def test_placeholders_match():
    for key, text in catalog("zh").items():
        assert set(re.findall(r"{(\w+)}", text)) == set(re.findall(r"{(\w+)}", catalog("en")[key])), key


def test_every_key_used_in_code_exists():
    used = set()
    for path in list(SRC.rglob("*.py")) + [SRC.parents[1] / "app.py"]:
        used |= set(re.findall(r"""\bt\(\s*f?["']([a-z_]+\.[a-z_.]+)["']""", path.read_text(encoding="utf-8")))
    missing = {k for k in used if k not in catalog("zh")}
    assert not missing, f"keys used but not in the catalogs: {sorted(missing)}"


def test_every_error_key_exists():
    from minqing import errors

    for name in dir(errors):
        cls = getattr(errors, name)
        if isinstance(cls, type) and issubclass(cls, errors.MinqingError):
            for lang in LANGS:
                assert cls.key in catalog(lang), (cls, lang)


def test_format_and_fallback():
    assert t("overview.period", "zh", start="a", end="b") == "统计时段：a 至 b"
    assert t("no.such.key", "en") == "no.such.key"
    assert fmt_date("2025-04-03", "zh") == "2025年4月3日"
    assert fmt_date("2025-04-03", "en") == "3 Apr 2025"
    assert fmt_month("2025-04-03", "en") == "Apr 2025"
    with pytest.raises(ValueError, match="allowed: zh, en"):
        catalog("fr")


def test_every_error_key_raised_in_code_exists():
    used = set()
    for path in SRC.rglob("*.py"):
        used |= set(re.findall(r"""\bkey\s*=\s*["']([a-z_]+\.[a-z_.]+)["']""", path.read_text(encoding="utf-8")))
    missing = {k for k in used if k not in catalog("zh")}
    assert not missing, f"error keys raised but not in the catalogs: {sorted(missing)}"
