import pandas as pd

from minqing.privacy import mask_name, mask_phone, mask_series, mask_tickets, mask_text


def plain(s):
    return [None if pd.isna(v) else v for v in s]


def test_mask_name_and_phone():
    assert mask_name("张三") == "张*"
    assert mask_name("欧阳娜娜") == "欧***"
    assert mask_name("李") == "李*"
    assert mask_name(None) is None
    assert mask_phone("13812345678") == "138****5678"
    assert mask_phone("138 1234 5678") == "138****5678"
    assert mask_phone("021-65431234") == "021****1234"
    assert mask_phone(float("nan")) is None


def test_mask_text_finds_numbers_and_names():
    text = "请联系王小明13812345678，或拨打021-65431234，身份证310110199001011234。王小明住3号楼"
    got = mask_text(text, ["王小明"])
    assert "13812345678" not in got and "138****5678" in got
    assert "65431234" not in got and "021-****1234" in got
    assert "199001011234" not in got and "310110********1234" in got
    assert "王小明" not in got and got.count("王**") == 2
    assert mask_text("+86 139-1234-5678") == "139****5678"


def test_mask_text_leaves_other_numbers():
    # house numbers, dates and order ids are not phone numbers
    assert mask_text("长白路123号，2025年4月3日，工单YP2411000123") == "长白路123号，2025年4月3日，工单YP2411000123"


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


def test_mask_series_keeps_index():
    s = pd.Series(["tel 13912345678", None], index=[10, 20])
    out = mask_series(s)
    assert out.index.tolist() == [10, 20]
    assert out.loc[10] == "tel 139****5678"
