"""The detectors of personal data in free text: phone, ID and plate numbers and e-mail addresses.

:func:`_mask_patterns` finds them with compiled regular expressions and masks
each with one replacement callback, following the rules of
:mod:`minqing.privacy` (which adds names, whole fields and the ``extra`` JSON
column). Full-width digits and letters are read through a half-width copy of
the same length, so every span carries over to the original text.

Free text is masked row by row; rows without a digit or an ``@`` skip the
expressions, and the number expression only runs around runs of seven or more
digits.
"""

from __future__ import annotations

import re

# Full-width ASCII (U+FF01..U+FF5E) and the ideographic space, mapped one to one
# onto ASCII so a normalised copy has the same length as the original.
_HALF = {cp: cp - 0xFEE0 for cp in range(0xFF01, 0xFF5F)}
_HALF[0x3000] = 0x20


def _half(text: str) -> str:
    return text.translate(_HALF)


# ---------------------------------------------------------------- patterns
_D = "[0-9０-９]"
_SP = r"[ \t\u00a0\u3000]"
# one optional separator between digit groups: spaces, or a dash/dot with spaces around it
_SEP = rf"(?:{_SP}{{0,2}}[-－‐–—.．·・]{_SP}{{0,2}}|{_SP}{{1,2}})?"
# inside ID numbers only a single space or dash
_ISEP = r"[ \u00a0\u3000\-－]?"
_CC = r"(?:[+＋]|00|００)?(?:86|８６)"  # country code
_INTL = rf"[(（]?{_CC}[)）]?{_SEP}"
_NOT_D_BEFORE = r"(?<!\d)"
_NOT_D_AFTER = r"(?!\d)"

# E-mail is matched on the half-width copy of the text (same length, so the spans
# carry over). A local part right after "digit + space/bracket" may be the tail of
# a spaced phone number (138 1234 5678@...) when it starts with a digit: it is left
# to the number patterns.
_EMAIL = (r"(?P<em>(?<![A-Za-z0-9._%+\-])(?!(?<=\d[ \t\u00a0‐–—·・•()])\d)[A-Za-z0-9._%+\-]+@"
          r"(?:[A-Za-z0-9](?:[A-Za-z0-9\-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,24}(?![A-Za-z0-9\-]))")
_ID = (rf"(?P<id>{_NOT_D_BEFORE}[1-9１-９](?:{_ISEP}{_D}){{14}}"
       rf"(?:(?:{_ISEP}{_D}){{2}}{_ISEP}[0-9０-９XxＸｘ])?{_NOT_D_AFTER})")
_MOB_BODY = (rf"[1１][3-9３-９]{_D}(?:{_SEP}{_D}{{4}}{_SEP}{_D}{{4}}|{_D}{_SEP}{_D}{{3}}{_SEP}{_D}{{4}}"
             rf"|{_D}{_SEP}{_D}{{4}}{_SEP}{_D}{{3}})")
_MOBILE = rf"(?P<mo>{_NOT_D_BEFORE}(?:{_INTL})?{_MOB_BODY}{_NOT_D_AFTER})"
_AREA = rf"(?:[1１][0０]|[2２]{_D}|[3-9３-９]{_D}{_D})"  # without its leading 0
_SUB = rf"[2-9２-９]{_D}{{2,3}}{_SEP}{_D}{{4}}"
_LANDLINE = (rf"(?P<ll>{_NOT_D_BEFORE}"
             rf"(?:{_INTL}[(（]?[0０]?(?P<la>{_AREA})[)）]?|[(（]?[0０](?P<lb>{_AREA})[)）]?)"
             rf"{_SEP}(?P<ls>{_SUB}){_NOT_D_AFTER})")
_PROVINCES = "京津沪渝冀豫云辽黑湘皖鲁新苏浙赣鄂桂甘晋蒙陕吉闽贵粤青藏川宁琼"
_PL = "[A-HJ-NP-Za-hj-np-zＡ-ＨＪ-ＮＰ-Ｚａ-ｈｊ-ｎｐ-ｚ]"  # no I or O
_PC = "[A-HJ-NP-Z0-9a-hj-np-zＡ-ＨＪ-ＮＰ-Ｚａ-ｈｊ-ｎｐ-ｚ０-９]"
_PLATE = (rf"(?P<pl>[{_PROVINCES}]{_PL}[·.．・•･∙\- \u3000]?"
          rf"(?P<pt>(?={_PC}{{0,5}}[0-9０-９]){_PC}{{5,6}}(?![A-Za-z0-9Ａ-Ｚａ-ｚ０-９])"
          rf"|(?={_PC}{{0,3}}[0-9０-９]){_PC}{{4}}[挂学警领试超港澳]))")
# literal first characters keep the search for a keyword fast (a charset prefix)
_KEYWORDS = ("电话|手机|座机|联系方式|致电|拨打|回电|"
             + "|".join(f"{c}(?<![A-Za-z]{c})(?i:{rest})" for word in ("tel", "phone", "mobile")
                        for c, rest in ((word[0], word[1:]), (word[0].upper(), word[1:]))))
_KEYWORD = (rf"(?P<kw>(?P<kp>(?:{_KEYWORDS})[^0-9０-９\n]{{0,5}}?)"
            rf"(?P<kn>{_NOT_D_BEFORE}{_D}{{3,4}}{_SEP}{_D}{{4}})(?!{_SEP}\d))")

_NUMBERS = re.compile(f"{_ID}|{_MOBILE}|{_LANDLINE}")
_NO_ID = re.compile(f"{_MOBILE}|{_LANDLINE}")
_KEYWORD_NUMBERS = re.compile(_KEYWORD)
_EMAILS = re.compile(_EMAIL)
_EMAILS_ANY = re.compile(_EMAIL.replace(r"(?!(?<=\d[ \t\u00a0‐–—·・•()])\d)", ""))
_PLATES = re.compile(_PLATE)
_CANDIDATE = re.compile(r"[\d@＠]")
# A run of digits and the characters that may sit inside a number, holding at
# least 7 digits: every number pattern lies in one, plus at most 2 characters
# of prefix before it (``(+86)``, ``（021）``).
_RUN_SEP = "XxＸｘ \t\u00a0\u3000\\-－‐–—.．·・()（）"
_RUN = re.compile(rf"[0-9０-９](?:[{_RUN_SEP}]*[0-9０-９]){{6}}[0-9０-９{_RUN_SEP}]*")
_RUN_LEAD = 2
_NOT_DIGIT = re.compile(r"[^0-9]")
_ID_DATE = re.compile(r"(?:18|19|20)\d\d(?:0[1-9]|1[0-2])(?:0[1-9]|[12]\d|3[01])")
_ID_DATE15 = re.compile(r"\d\d(?:0[1-9]|1[0-2])(?:0[1-9]|[12]\d|3[01])")


def _digits(text: str) -> str:
    return _NOT_DIGIT.sub("", _half(text))


def _replace(m: re.Match) -> str:
    kind = m.lastgroup
    if kind == "em":
        local, _, domain = m.group().rpartition("@")
        return local[0] + "***@" + domain
    if kind == "id":
        chars = re.sub(r"[^0-9X]", "", _half(m.group()).upper())
        if (len(chars) == 18 and _ID_DATE.fullmatch(chars, 6, 14)) or (
                len(chars) == 15 and chars.isdigit() and _ID_DATE15.fullmatch(chars, 6, 12)):
            return chars[:3] + "*" * (len(chars) - 5) + chars[-2:]
        # not an ID after all: the digits may still hold a phone number
        return _NO_ID.sub(_replace, m.group())
    if kind == "mo":
        d = _digits(m.group())[-11:]
        return d[:3] + "****" + d[-4:]
    if kind == "ll":
        area = "0" + _digits(m.group("la") or m.group("lb"))
        sub = _digits(m.group("ls"))
        keep = 4 if len(sub) >= 8 else 3
        return area + "-" + "*" * (len(sub) - keep) + sub[-keep:]
    if kind == "pl":
        head = _half(m.group()[:2]).upper()
        tail = m.group("pt")
        return head + "*" * (len(tail) - 1) + _half(tail[-1]).upper()
    # kw: a bare local number right after a phone keyword; keep the last 2 digits
    d = _digits(m.group("kn"))
    return m.group("kp") + "*" * (len(d) - 2) + d[-2:]


def _mask_numbers(text: str) -> str:
    # The number expression is slow to try at every position, so it only runs
    # in windows around long digit runs: lookbehinds still see the whole string,
    # and each window ends one character past its run for the lookaheads.
    first = _RUN.search(text)
    if first is None:
        return text
    windows: list[list[int]] = []
    for run in _RUN.finditer(text, first.start()):
        lo, hi = max(0, run.start() - _RUN_LEAD), min(len(text), run.end() + 1)
        if windows and lo <= windows[-1][1]:
            windows[-1][1] = hi
        else:
            windows.append([lo, hi])
    pieces, last = [], 0
    for lo, hi in windows:
        for m in _NUMBERS.finditer(text, max(lo, last), hi):
            pieces += (text[last:m.start()], _replace(m))
            last = m.end()
    if pieces:
        pieces.append(text[last:])
        text = "".join(pieces)
    # a bare local number after 电话/tel/...: its search has a fast literal prefix
    return _KEYWORD_NUMBERS.sub(_replace, text)


def _mask_emails(text: str, rx: re.Pattern) -> str:
    pieces, last = [], 0
    for m in rx.finditer(_half(text)):
        pieces += (text[last:m.start()], _replace(m))
        last = m.end()
    if not pieces:
        return text
    pieces.append(text[last:])
    return "".join(pieces)


def _mask_patterns(text: str) -> str:
    if _CANDIDATE.search(text) is None:
        return text
    mail = "@" in text or "＠" in text
    if mail:
        text = _mask_emails(text, _EMAILS)
    text = _mask_numbers(text)
    if mail:  # what the first pass left to the number patterns
        text = _mask_emails(text, _EMAILS_ANY)
    return _PLATES.sub(_replace, text)
