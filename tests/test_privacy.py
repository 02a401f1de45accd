import json
import math
import re

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from minqing.privacy import (
    mask_name,
    mask_phone,
    mask_series,
    mask_text,
    mask_tickets,
    redact_url,
)

FULL = str.maketrans("0123456789+X", "０１２３４５６７８９＋Ｘ")


def plain(s):
    return [None if pd.isna(v) else v for v in s]


def test_mask_name_and_phone():
    assert mask_name("张三") == "张*"
    assert mask_name("欧阳娜娜") == "欧***"
    assert mask_name(None) is None
    assert mask_phone("13812345678") == "138****5678"
    assert mask_phone("138 1234 5678") == "138****5678"
    assert mask_phone("021-65431234") == "021****1234"
    assert mask_phone(float("nan")) is None


@pytest.mark.parametrize("name, masked", [
    ("张三丰", "张**"),
    ("张三", "张*"),
    ("李", "*"),
    (" 王小明 ", "王**"),
    ("", ""),
    ("John Smith", "J*********"),
    ("张*", "张*"),  # masking again changes nothing
])
def test_mask_name(name, masked):
    assert mask_name(name) == masked


@pytest.mark.parametrize("phone, masked", [
    ("13812345678", "138****5678"),
    ("138-1234-5678", "138****5678"),
    ("138.1234.5678", "138****5678"),
    ("(138) 1234 5678", "138****5678"),
    ("+8613812345678", "138****5678"),
    ("+86 138 1234 5678", "138****5678"),
    ("0086-13812345678", "138****5678"),
    ("１３８１２３４５６７８", "138****5678"),
    ("＋８６ １３８ １２３４ ５６７８", "138****5678"),
    (13812345678, "138****5678"),
    (13812345678.0, "138****5678"),  # a spreadsheet number
    ("13812345678.0", "138****5678"),
    ("021-65432100", "021****2100"),  # 11 digits: first 3, last 4
    ("（021）6543-2100", "021****2100"),
    ("+86 21 6543 2100", "021****2100"),
    ("0571-88888888", "057*****8888"),  # 12 digits
    ("65432100", "******00"),  # a local landline: only the last 2
    ("6543 2100", "******00"),
    ("8888888", "*****88"),
    ("0571888888", "********88"),  # 10 digits
    ("123456", "******"),
    ("110", "***"),
    ("13812345678/65432100", "138****5678/******00"),
    ("13812345678、13987654321", "138****5678、139****4321"),
    ("138****5678", "138****5678"),  # already masked
    ("******00", "******00"),
    ("无", "*"),
    ("", ""),
    (None, None),
])
def test_mask_phone(phone, masked):
    assert mask_phone(phone) == masked


MOBILE_SPELLINGS = [
    "13812345678",
    "138 1234 5678",
    "138-1234-5678",
    "138.1234.5678",
    "1381 234 5678",
    "1381234 5678",
    "138 12345678",
    "138 - 1234 - 5678",
    "138-1234 5678",  # mixed separators
    "138.1234-5678",
    "+86 13812345678",
    "+86-138-1234-5678",
    "+8613812345678",
    "(+86)13812345678",
    "0086 138 1234 5678",
    "0086-13812345678",
    "86138 1234 5678",
    "8613812345678",
    "１３８１２３４５６７８",
    "＋８６ １３８１２３４５６７８",
    "１３８－１２３４－５６７８",
    "138　1234　5678",  # ideographic spaces
]


@pytest.mark.parametrize("spelling", MOBILE_SPELLINGS)
def test_mobile_in_any_spelling(spelling):
    assert mask_text(f"请联系王先生{spelling}，谢谢") == "请联系王先生138****5678，谢谢"


@pytest.mark.parametrize("text, masked", [
    ("tel 13912345678", "tel 139****5678"),
    ("电话13912345678。", "电话139****5678。"),
    ("13912345678和15087654321", "139****5678和150****4321"),
    ("13912345678/15087654321", "139****5678/150****4321"),
    ("号码：13912345678 谢谢", "号码：139****5678 谢谢"),
])
def test_mobile_in_context(text, masked):
    assert mask_text(text) == masked


@pytest.mark.parametrize("spelling, masked", [
    ("021-65432100", "021-****2100"),
    ("(021)65432100", "021-****2100"),
    ("（021）65432100", "021-****2100"),
    ("(021) 6543 2100", "021-****2100"),
    ("021 6543 2100", "021-****2100"),
    ("021-6543-2100", "021-****2100"),
    ("02165432100", "021-****2100"),
    ("010-87654321", "010-****4321"),
    ("0571-8888888", "0571-****888"),  # 7-digit number: 4 of 7 hidden
    ("0571-88887777", "0571-****7777"),
    ("05718888888", "0571-****888"),
    ("+86 21 6543 2100", "021-****2100"),
    ("０２１－６５４３２１００", "021-****2100"),
])
def test_landline_with_area_code(spelling, masked):
    assert mask_text(f"拨打{spelling}咨询") == f"拨打{masked}咨询"


@pytest.mark.parametrize("text, masked", [
    ("电话：65432100", "电话：******00"),
    ("电话:65432100", "电话:******00"),
    ("联系电话 6543 2100", "联系电话 ******00"),
    ("联系方式：6543-2100", "联系方式：******00"),
    ("手机号码是65432100", "手机号码是******00"),
    ("座机8888888。", "座机*****88。"),
    ("tel: 65432100", "tel: ******00"),
    ("Phone 65432100", "Phone ******00"),
    ("请致电65432100", "请致电******00"),
    ("电话：６５４３２１００", "电话：******00"),
])
def test_bare_number_after_a_phone_keyword(text, masked):
    assert mask_text(text) == masked


@pytest.mark.parametrize("spelling, masked", [
    ("310110199001011234", "310*************34"),
    ("31011019900101123X", "310*************3X"),
    ("31011019900101123x", "310*************3X"),
    ("310110 19900101 123X", "310*************3X"),
    ("310110-19900101-123X", "310*************3X"),
    ("3101 1019 9001 0112 3X", "310*************3X"),
    ("３１０１１０１９９００１０１１２３Ｘ", "310*************3X"),
    ("310110900101123", "310**********23"),  # 15 digits, birth date 900101
    ("310110 900101 123", "310**********23"),
])
def test_id_numbers(spelling, masked):
    got = mask_text(f"身份证号{spelling}。")
    assert got == f"身份证号{masked}。"
    assert "19900101" not in got and "900101" not in got


def test_18_digits_that_are_no_id_are_still_checked_for_phones():
    # month 13 is no birth date, so this is no ID number; the mobile in it is still masked
    assert mask_text("13812345678 1301 234") == "138****5678 1301 234"


@pytest.mark.parametrize("spelling, masked", [
    ("沪A12345", "沪A****5"),
    ("沪A·12345", "沪A****5"),
    ("沪A.12345", "沪A****5"),
    ("沪A 12345", "沪A****5"),
    ("沪A-12345", "沪A****5"),
    ("沪AD12345", "沪A*****5"),  # new energy: 6 characters
    ("沪A12345D", "沪A*****D"),
    ("沪Ａ１２３４５", "沪A****5"),
    ("沪a12345", "沪A****5"),
    ("京B8K123", "京B****3"),
    ("粤B1234学", "粤B****学"),
    ("新A12345", "新A****5"),
    ("藏A12345", "藏A****5"),
    ("琼B12345", "琼B****5"),
])
def test_licence_plates(spelling, masked):
    assert mask_text(f"车牌{spelling}占道") == f"车牌{masked}占道"


@pytest.mark.parametrize("province", list("京津沪渝冀豫云辽黑湘皖鲁新苏浙赣鄂桂甘晋蒙陕吉闽贵粤青藏川宁琼"))
def test_plates_of_every_province(province):
    assert mask_text(f"{province}C54321") == f"{province}C****1"


@pytest.mark.parametrize("text, masked", [
    ("邮箱zhangsan@example.com谢谢", "邮箱z***@example.com谢谢"),
    ("mail: Li.Si-2@mail.example.org.", "mail: L***@mail.example.org."),
    ("13812345678@163.com", "1***@163.com"),
    ("ｚｈａｎｇ＠ｅｘａｍｐｌｅ．ｃｏｍ", "z***@example.com"),
    ("a@b.cn, c_d@e.com", "a***@b.cn, c***@e.com"),
    ("138 1234 5678@qq.com", "138****5***@qq.com"),  # the spaced mobile is not cut by the e-mail
])
def test_email(text, masked):
    assert mask_text(text) == masked


@pytest.mark.parametrize("text", [
    "2025-04-03 14:05",
    "2025/04/03 14:05:59",
    "2025年4月3日下午3点",
    "20250403",
    "长白路123号5栋302室",
    "国和路1234弄56号",
    "罚款200元，赔偿13500元",
    "邮编200082",
    "工单编号GD20250403000123",
    "工单YP2411000123",
    "GD2025040300012345",
    "坐标121.4737,31.2304",
    "第3期，共12期",
    "电话故障已修复，2025年4月",
    "来电时间20250403",
    "新建小区A区",  # a province character followed by a letter but no plate
    "沪A区12号",
    "京东123456",
    "1380",
    "价格1,380,000元",
    "a@b",
])
def test_ordinary_numbers_stay_readable(text):
    assert mask_text(text) == text


def test_digit_runs_longer_than_a_pattern_are_not_partly_masked():
    for text in ("138123456789", "213812345678", "0216543210012", "3101101990010112345", "1381234567"):
        assert mask_text(text) == text


def test_mask_text_finds_numbers_and_names():
    text = "请联系王小明13812345678，或拨打021-65431234，身份证310110199001011234。王小明住3号楼"
    got = mask_text(text, ["王小明"])
    assert got == "请联系王**138****5678，或拨打021-****1234，身份证310*************34。王**住3号楼"
    assert mask_text("+86 139-1234-5678") == "139****5678"


def test_names_in_text():
    assert mask_text("张三说张三丰来了", ["张三", "张三丰"]) == "张*说张**来了"
    assert mask_text("张三说", "张三") == "张*说"
    assert mask_text("李先生说", ["李"]) == "李先生说"  # one character is too common to mask in text
    assert mask_text("张三说", [None, float("nan")]) == "张三说"
    assert mask_text(None) is None


def test_mask_text_leaves_other_numbers():
    # house numbers, dates and order ids are not phone numbers
    assert mask_text("长白路123号，2025年4月3日，工单YP2411000123") == "长白路123号，2025年4月3日，工单YP2411000123"


MIXED = [
    "请联系王小明13812345678，或拨打021-65431234，身份证310110199001011234。",
    "电话：65432100，车牌沪AD12345，邮箱zhang@example.com",
    "+86 138 1234 5678 / (021)6543-2100 / 3101 1019 9001 0112 3X",
    "１３８１２３４５６７８，沪Ａ·１２３４５",
    "2025-04-03 14:05 长白路123号 GD20250403000123",
]


@pytest.mark.parametrize("text", MIXED)
def test_masking_twice_changes_nothing(text):
    once = mask_text(text, ["王小明"])
    assert once != text or text == MIXED[-1]
    assert mask_text(once, ["王小明"]) == once


def test_mask_tickets_does_not_touch_the_input():
    df = pd.DataFrame(
        {
            "caller_name": ["张三", None],
            "caller_phone": ["13812345678", None],
            "text": ["张三说：电话13812345678", None],
            "address": ["长白路1号", "国和路2号"],
        }
    )
    out = mask_tickets(df)
    assert plain(out["caller_name"]) == ["张*", None]
    assert plain(out["caller_phone"]) == ["138****5678", None]
    assert plain(out["text"]) == ["张*说：电话138****5678", None]
    assert df["caller_name"].iloc[0] == "张三"


def test_mask_tickets_masks_the_extra_column():
    extra = [
        json.dumps({"联系人": "王小明", "备注": "王小明请回电13812345678", "photos": "2"}, ensure_ascii=False),
        json.dumps({"Phone": "65432100", "caller name": "Li Si", "contact": "139 8765 4321",
                    "身份证号码": "310110199001011234", "小区名称": "长白新村"}, ensure_ascii=False),
        '{"_address_match": {"name": "长白新村", "score": 95}}',
        '{"备注": "电话13812345678"',  # broken JSON: masked as text
        '{"号码": 13812345678}',
        None,
    ]
    df = pd.DataFrame({"caller_name": ["王小明", "李四", None, "王小明", None, "张三"], "extra": extra})
    out = mask_tickets(df)["extra"].tolist()
    assert json.loads(out[0]) == {"联系人": "王**", "备注": "王**请回电138****5678", "photos": "2"}
    assert json.loads(out[1]) == {"Phone": "******00", "caller name": "L****", "contact": "139****4321",
                                  "身份证号码": "310*************34", "小区名称": "长白新村"}
    assert out[2] == '{"_address_match": {"name": "长白新村", "score": 95}}'
    assert out[3] == '{"备注": "电话138****5678"'
    assert json.loads(out[4]) == {"号码": "138****5678"}
    assert out[5] is None
    assert "王小明" not in "".join(o for o in out if o)
    assert df["extra"].iloc[0] == extra[0]


def test_mask_tickets_leaves_harmless_extra_as_written():
    df = pd.DataFrame({"caller_name": ["张三"], "extra": ['{"photos":2,"二维码":"QR-0042"}']})
    assert mask_tickets(df)["extra"].iloc[0] == '{"photos":2,"二维码":"QR-0042"}'


def test_mask_tickets_extra_when_the_name_needs_escaping():
    name = 'A"B'
    df = pd.DataFrame({"caller_name": [name], "extra": [json.dumps({"备注": f"{name}来电"})]})
    assert json.loads(mask_tickets(df)["extra"].iloc[0]) == {"备注": "A**来电"}


def test_mask_series_keeps_index():
    s = pd.Series(["tel 13912345678", None], index=[10, 20])
    out = mask_series(s)
    assert out.index.tolist() == [10, 20]
    assert out.loc[10] == "tel 139****5678"


def test_mask_series_names_and_types():
    s = pd.Series(["张三13812345678", np.nan, "李四说王五来了", 13812345678, ""], index=list("abcde"), dtype=object)
    names = pd.Series({"e": "赵六", "d": None, "c": ["李四", "王五"], "b": "x", "a": "张三"})  # other order
    out = mask_series(s, names)
    assert out.tolist() == ["张*138****5678", None, "李*说王*来了", "138****5678", ""]
    assert out.dtype == object and out.index.tolist() == list("abcde")
    assert mask_series(s.astype("str")).tolist()[0] == "张三138****5678"
    assert mask_series(pd.Series([], dtype=object)).tolist() == []


def test_mask_series_rejects_unaligned_duplicate_index():
    with pytest.raises(ValueError, match="same index"):
        mask_series(pd.Series(["a", "b"], index=[1, 1]), pd.Series(["a", "b"], index=[2, 3]))


@pytest.mark.parametrize("url, safe", [
    ("postgresql://user:secret@host/db", "postgresql://user:***@host/db"),
    ("postgresql+psycopg://minqing:p%40ss:w0rd@db.example.org:5432/minqing?sslmode=require",
     "postgresql+psycopg://minqing:***@db.example.org:5432/minqing?sslmode=require"),
    ("postgresql://user@host/db", "postgresql://user@host/db"),
    ("postgresql://host/db?user=u&password=s3cret&sslmode=require",
     "postgresql://host/db?user=u&password=***&sslmode=require"),
    ("postgresql://u:a@host/db?PASSWORD=b", "postgresql://u:***@host/db?PASSWORD=***"),
    ("host=db user=u password=secret dbname=x", "host=db user=u password=*** dbname=x"),
    ("sqlite:///path/to/minqing.db", "sqlite:///path/to/minqing.db"),
    ("sqlite:///C:/data/m@x.db", "sqlite:///C:/data/m@x.db"),
    ("", ""),
])
def test_redact_url(url, safe):
    assert redact_url(url) == safe


# ---------------------------------------------------------------- properties
# Text around an embedded number: anything but digits (and surrogates).
around = st.text(st.characters(blacklist_categories=("Nd", "Cs")), max_size=12)
seps = st.sampled_from(["", " ", "-", ".", "  ", " - ", "－", "．", "\u3000"])
one_sep = st.sampled_from(["", " ", "-"])


def _spell(draw, digits, groups, sep):
    parts, i = [], 0
    for g in groups:
        parts.append(digits[i:i + g])
        i += g
    text = parts[0] + "".join(draw(sep) + p for p in parts[1:])
    return "".join(c.translate(FULL) if draw(st.booleans()) else c for c in text)


@st.composite
def mobiles(draw):
    digits = "1" + draw(st.sampled_from("3456789")) + "".join(draw(st.sampled_from("0123456789")) for _ in range(9))
    groups = draw(st.sampled_from([(11,), (3, 4, 4), (4, 3, 4), (3, 8), (7, 4), (4, 4, 3)]))
    prefix = draw(st.sampled_from(["", "+86", "+86 ", "+86-", "0086 ", "86", "(+86)", "＋８６", "(+86) "]))
    return digits, prefix + _spell(draw, digits, groups, seps)


@st.composite
def id_numbers(draw):
    region = draw(st.sampled_from(["110101", "310110", "440305", "650102"]))
    birth = draw(st.dates(min_value=pd.Timestamp("1900-01-01").date(), max_value=pd.Timestamp("2020-12-31").date()))
    seq = "".join(draw(st.sampled_from("0123456789")) for _ in range(3))
    if draw(st.booleans()):
        digits = region + birth.strftime("%Y%m%d") + seq + draw(st.sampled_from("0123456789X"))
        groups = draw(st.sampled_from([(18,), (6, 8, 4), (4, 4, 4, 4, 2), (6, 4, 4, 4)]))
        hidden = birth.strftime("%Y%m%d")
    else:
        digits = region + birth.strftime("%y%m%d") + seq
        groups = draw(st.sampled_from([(15,), (6, 6, 3)]))
        hidden = birth.strftime("%y%m%d")
    return digits, hidden, _spell(draw, digits, groups, one_sep)


@st.composite
def landlines(draw):
    area = draw(st.sampled_from(["010", "021", "020", "0571", "0898", "0755"]))
    sub = draw(st.sampled_from("23456789")) + "".join(draw(st.sampled_from("0123456789"))
                                                      for _ in range(draw(st.sampled_from([6, 7]))))
    split = draw(st.sampled_from([len(sub), len(sub) - 4]))
    body = _spell(draw, sub, (split, len(sub) - split) if split < len(sub) else (len(sub),), seps)
    form = draw(st.sampled_from(["{a}-{s}", "({a}){s}", "（{a}）{s}", "({a}) {s}", "{a} {s}", "{a}{s}"]))
    return area, sub, form.format(a=_spell(draw, area, (len(area),), seps), s=body)


def _out_digits(text):
    return re.sub(r"[^0-9]", "", text.translate(str.maketrans("０１２３４５６７８９", "0123456789")))


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(before=around, number=mobiles(), after=around)
def test_property_mobile_middle_never_shown(before, number, after):
    digits, spelled = number
    out = mask_text(before + spelled + after)
    visible = digits[:3] + "****" + digits[-4:]  # usually there; an e-mail around the number hides more
    assert len(_out_digits(out)) <= 7
    assert digits[3:7] not in _out_digits(out.replace(visible, ""))
    assert mask_text(out) == out


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(before=around, number=id_numbers(), after=around)
def test_property_id_birth_date_never_shown(before, number, after):
    digits, hidden, spelled = number
    out = mask_text(before + spelled + after)
    visible = digits[:3] + "*" * (len(digits) - 5) + digits[-2:]
    assert len(_out_digits(out)) <= 5
    assert hidden not in _out_digits(out.replace(visible, ""))
    assert mask_text(out) == out


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(before=around, number=landlines(), after=around)
def test_property_landline_subscriber_mostly_hidden(before, number, after):
    area, sub, spelled = number
    out = mask_text(before + spelled + after)
    keep = 4 if len(sub) == 8 else 3
    visible = f"{area}-{'*' * (len(sub) - keep)}{sub[-keep:]}"
    assert visible in out or "@" in out  # an e-mail around the number hides more
    assert len(_out_digits(out)) <= len(area) + keep
    assert sub[:-keep] not in _out_digits(out.replace(visible, ""))
    assert mask_text(out) == out


@settings(max_examples=200, deadline=None)
@given(number=mobiles())
def test_property_mask_phone_reads_every_mobile_spelling(number):
    digits, spelled = number
    assert mask_phone(spelled) == digits[:3] + "****" + digits[-4:]


@settings(max_examples=200, deadline=None)
@given(digits=st.text("0123456789", min_size=7, max_size=10), sep=seps)
def test_property_mask_phone_local_numbers_show_two_digits_at_most(digits, sep):
    out = mask_phone(digits[:4] + sep + digits[4:])
    assert len(_out_digits(out)) <= 2 and len(out) == len(digits)


anything = st.one_of(
    st.none(),
    st.just(float("nan")),
    st.just(pd.NA),
    st.text(st.characters(blacklist_categories=("Cs",)), max_size=60),
    st.text(st.sampled_from(list("0123456789０１２３４５６７８９ -.()（）+＋@xX沪A电话：") + ["\x00", "\n"]), max_size=40),
    st.integers(),
    st.floats(),
)


@settings(max_examples=300, deadline=None)
@given(values=st.lists(anything, max_size=8), names=st.lists(st.one_of(anything, st.lists(anything, max_size=3)),
                                                              max_size=8), offset=st.integers(-5, 5))
def test_property_mask_series_never_raises(values, names, offset):
    index = pd.Index([i * 3 + offset for i in range(len(values))])
    s = pd.Series(values, index=index, dtype=object)
    nm = pd.Series((names + [None] * len(values))[:len(values)], index=index, dtype=object)
    out = mask_series(s, nm)
    assert out.index.equals(s.index) and len(out) == len(s)
    for v, o in zip(values, out):
        assert (o is None) == (v is None or v is pd.NA or (isinstance(v, float) and math.isnan(v)))
    again = mask_series(out.where(out.notna(), None), nm)
    assert again.tolist() == out.tolist()


@settings(max_examples=200, deadline=None)
@given(text=st.text(st.characters(blacklist_categories=("Cs",)), max_size=80))
def test_property_masking_is_idempotent(text):
    once = mask_text(text)
    assert mask_text(once) == once
