"""Every number a sentence states, as written: value, unit, the precision it was written at, sign, bound and span.

Digits follow the language's conventions (en ``1,234.5``; ru ``1 234,5`` / ``12,5 %``; zh like en; grouping by
spaces in any language), with a currency sign, a scale word (k, M, million, тыс., млн, 万, 亿, …) and a unit
(%, percentage points, money, days, weeks, months, years, ×/times/раз/倍, counts of customers/leads/名/个). Number
words are converted by well-kept libraries: ``text2num`` (English), ``number_parser`` (Russian), ``cn2an``
(Chinese); the spans they convert, fractions ("a third", "две трети", "四分之一", "七成", "seven in ten", "каждый
четвёртый") and multipliers ("twice", "вдвое", "两倍", "three and a half times", "удвоит", "翻倍") are found by the
tables below, which those libraries do not cover. Ratios "13.9:1" are multiples; "60–80%", "от 30 до 50", "30至50"
are ranges whose first number takes the unit of the second.

Precision: a number is taken as rounded at its last written digit (``step`` = 0.1 for "58.5%"); an integer count
or amount of money with trailing zeros as rounded at its last non-zero digit ("$3,000" → step 1,000); a scale word
multiplies the step ("$2.87M" → 10,000). Fractions carry a tolerance of 3 percentage points ("a quarter" for 23–27 %).
Spans are offsets into the sentence, which is never rewritten, so a caller can tell numbers inside a metric's name.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from enum import StrEnum

FRACTION_TOLERANCE = 0.03  # share: "a quarter" covers 0.22..0.28


class Unit(StrEnum):
    PERCENT = "percent"
    POINTS = "points"  # percentage points of a ratio difference, or points of a score
    MONEY = "money"
    DAYS = "days"
    WEEKS = "weeks"
    MONTHS = "months"
    YEARS = "years"
    HOURS = "hours"
    MULTIPLE = "multiple"
    FRACTION = "fraction"  # a share written as a fraction in words; value in 0..1
    COUNT = "count"  # a number of customers, leads, accounts
    PLAIN = "plain"


DAYS_PER = {Unit.HOURS: 1 / 24, Unit.DAYS: 1.0, Unit.WEEKS: 7.0, Unit.MONTHS: 365.25 / 12, Unit.YEARS: 365.25}


@dataclass(frozen=True)
class Number:
    """One number in a sentence."""

    start: int
    end: int
    text: str
    value: float
    unit: Unit
    step: float  # rounding step of the value as written (same unit as value)
    negative_word: bool = False  # the sign came from a word ("minus", "минус", "负") or a sign character
    bound: str | None = None  # "lt" (under/менее/不到) or "gt" (over/более/超过/以上), else None
    approx: bool = False  # about/около/约
    from_words: bool = False
    in_range: bool = False
    ratio: bool = False  # written "13.9:1"

    @property
    def tolerance(self) -> float:
        """Half the step (a person's rounding), or the fraction tolerance."""
        return FRACTION_TOLERANCE if self.unit is Unit.FRACTION else self.step / 2


# --- units and scales ---------------------------------------------------------------------------------------------------

_SCALE = (r"(?P<scale>thousand|million|billion|mln|mn|bn|[kK](?![A-Za-z])|M(?![A-Za-z])|B(?![A-Za-z])|"
          r"тыс\.?|тысяч[аиу]?|млн\.?|миллион(?:а|ов)?|млрд\.?|миллиард(?:а|ов)?|百万|千|万|亿)")
_SCALES = {"thousand": 1e3, "k": 1e3, "тыс": 1e3, "тысяч": 1e3, "千": 1e3, "million": 1e6, "mln": 1e6, "mn": 1e6, "m": 1e6,
           "млн": 1e6, "миллион": 1e6, "百万": 1e6, "billion": 1e9, "bn": 1e9, "b": 1e9, "млрд": 1e9, "миллиард": 1e9,
           "万": 1e4, "亿": 1e8}
_UNIT_PATTERNS: tuple[tuple[Unit, str], ...] = (
    (Unit.POINTS, r"percentage[ -]points?|pp\b|p\.\s?p\.|pts?\b|points?\b|п\.\s?п\.?|процентн\w*\s+пункт\w*|пункт\w*|个百分点|百分点"),
    (Unit.PERCENT, r"%|％|percent\b|per\s?cent\b|процент\w*"),
    (Unit.MONEY, r"\$|USD\b|dollars?\b|долл\.?\w*|доллар\w*|руб\.?\w*|₽|美元|元|€|EUR\b|£"),
    (Unit.DAYS, r"days?\b|дн\.|дн(?:я|ей|ю|ям)\b|день\b|суток\b|天|日(?!本)"),
    (Unit.WEEKS, r"weeks?\b|недел\w*|周|星期"),
    (Unit.MONTHS, r"months?\b|мес\.|мес(?:яц\w*)?\b|个月"),
    (Unit.YEARS, r"years?\b|год(?:а|у|ом)?\b|лет\b|年(?![0-9])"),
    (Unit.HOURS, r"hours?\b|hrs?\b|час\w*|小时"),
    (Unit.MULTIPLE, r"[x×](?![A-Za-z])|times\b|раз(?:а)?\b|倍"),
    (Unit.POINTS, r"分(?!之|钟)"),
    (Unit.COUNT, r"customers?\b|accounts?\b|leads?\b|subscribers?\b|users?\b|companies\b|клиент\w*|аккаунт\w*|лид(?:ов|а|ы)?\b|"
                 r"подписчик\w*|компани\w*|名|位|条|家|户|个(?!月|百分点)"),
)
_UNIT_RE = re.compile("|".join(f"(?P<u{i}>{p})" for i, (_u, p) in enumerate(_UNIT_PATTERNS)), re.I)
_CURRENCY = r"(?P<cur>US\$|\$|€|£|¥|₽)"
_NUM = r"(?P<num>\d{1,3}(?:(?:,|[ \u00a0\u202f])\d{3})+(?:[.,]\d+)?|\d+(?:[.,]\d+)?)"
_NUMBER_RE = re.compile(
    r"(?P<sign>(?<![\w.,–—%％-])[-−–](?=\s?\$?\d)|\+)?\s?" + _CURRENCY + r"?\s?" + _NUM +
    r"(?P<ratio>[\s-]?(?::|-?to-?|к|比)[\s-]?1(?!\d|[.,]\d|\s*(?:%|％|[–-]\s*\d)))?" + r"(?:\s?" + _SCALE + r")?", re.I)
_RANGE_JOIN = re.compile(r"^\s*(?:[–—~-]|to|до|至|到)\s*$", re.I)

# Words before a number that bound or soften it.
_BOUND_LT = re.compile(r"(?:under|below|less than|fewer than|at most|just under|не более|менее|меньше|ниже|не больше|不到|低于|少于)\s*$", re.I)
_BOUND_GT = re.compile(r"(?:over|above|more than|at least|just over|not less than|более|больше|свыше|не менее|не ниже|超过|高于|多于|逾|不低于)\s*$", re.I)
_BOUND_AFTER_GT = re.compile(r"^\s*(?:\+|以上|or more|и более|或以上)")
_APPROX = re.compile(r"(?:about|around|roughly|approximately|approx\.|nearly|almost|close to|~|≈|около|примерно|порядка|почти|"
                     r"приблизительно|ок\.|约为|大约|约|近|将近|接近)\s*$", re.I)
_NEGATIVE_WORD = re.compile(r"(?:minus|negative|минус|отрицательн\w*|负)[\s:,—–-]*(?:at\s+|на уровне\s+)?$", re.I)


def unit_of(text: str) -> tuple[Unit | None, int]:
    """The unit a number is followed by (``text`` starts right after the number) and the characters it takes."""
    match = _UNIT_RE.match(text.lstrip())
    if not match:
        return None, 0
    skipped = len(text) - len(text.lstrip())
    for i, (unit, _pattern) in enumerate(_UNIT_PATTERNS):
        if match.group(f"u{i}"):
            return unit, skipped + match.end()
    return None, 0


def parse_digits(raw: str, language: str, currency: bool = False) -> tuple[float, int, bool]:
    """(value, decimals, grouped) of a digit string by the language's conventions.

    Russian: a comma is the decimal mark unless it groups thousands ("$2,941", or several groups "1,234,567");
    English and Chinese: a comma groups thousands when followed by three digits, else it is a decimal mark.
    """
    text = raw.replace("\u00a0", " ").replace("\u202f", " ")
    grouped = " " in text
    text = text.replace(" ", "")
    if "," in text and "." in text:
        text = text.replace(",", "") if text.index(",") < text.index(".") else text.replace(".", "").replace(",", ".")
        grouped = True
    elif "," in text:
        groups = text.split(",")
        thousands = all(len(g) == 3 for g in groups[1:]) and len(groups[0]) <= 3
        if thousands and (language != "ru" or currency or len(groups) > 2):
            text, grouped = text.replace(",", ""), True
        else:
            text = groups[0] + "." + "".join(groups[1:])
    decimals = len(text.split(".")[1]) if "." in text else 0
    return float(text), decimals, grouped


def _step(value: float, decimals: int, unit: Unit, scale: float) -> float:
    step = 10.0 ** -decimals
    if decimals == 0 and unit in (Unit.MONEY, Unit.COUNT) and value >= 100 and scale == 1.0:
        digits = str(int(value))
        zeros = len(digits) - len(digits.rstrip("0"))
        step = 10.0 ** min(zeros, len(digits) - 1)
    return step * scale


# --- number words -------------------------------------------------------------------------------------------------

_EN_WORD = (r"zero|one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|thirteen|fourteen|fifteen|sixteen|"
            r"seventeen|eighteen|nineteen|twenty|thirty|forty|fifty|sixty|seventy|eighty|ninety|hundred|thousand|million")
_EN_WORDS = re.compile(rf"\b(?:a\s+)?(?:{_EN_WORD})(?:(?:[\s-]+|\s+and\s+)(?:{_EN_WORD}))*\b", re.I)
_RU_WORD = (r"ноль|один|одна|одно|одного|одной|два|две|двух|трём|три|трёх|трех|четыре|четырёх|четырех|пять|пяти|шесть|шести|"
            r"семь|семи|восемь|восьми|девять|девяти|десять|десяти|одиннадцать|двенадцать|тринадцать|четырнадцать|пятнадцать|"
            r"шестнадцать|семнадцать|восемнадцать|девятнадцать|двадцать|двадцати|тридцать|тридцати|сорок|сорока|пятьдесят|"
            r"пятидесяти|шестьдесят|семьдесят|восемьдесят|девяносто|сто|ста|двести|триста|четыреста|пятьсот|тысяча|тысячи|тысяч")
_RU_WORDS = re.compile(rf"(?<![\w-])(?:{_RU_WORD})(?:\s+(?:{_RU_WORD}))*(?![\w-])", re.I)
_ZH_WORDS = re.compile(r"[零〇一二两三四五六七八九十百千万亿]+(?:点[零〇一二三四五六七八九]+)?")
_ZH_COMMON = re.compile(r"^(?:一)$")  # a lone 一 is "a/one" in words like 一些, 统一, 一致; only counted before a unit

_EN_FRACTIONS = {"half": (1, 2), "a half": (1, 2), "one half": (1, 2), "a third": (1, 3), "one third": (1, 3), "two thirds": (2, 3),
                 "a quarter": (1, 4), "one quarter": (1, 4), "three quarters": (3, 4), "a fifth": (1, 5), "one fifth": (1, 5),
                 "two fifths": (2, 5), "three fifths": (3, 5), "a tenth": (1, 10), "one tenth": (1, 10)}
_RU_FRACTIONS = {"половин": (1, 2), "треть": (1, 3), "трети": (1, 3), "две трети": (2, 3), "двух третей": (2, 3), "четверть": (1, 4),
                 "четверти": (1, 4), "три четверти": (3, 4), "пятая часть": (1, 5), "пятую часть": (1, 5), "десятая часть": (1, 10)}
_RU_ORDINALS = {"втор": 2, "трет": 3, "четвёрт": 4, "четверт": 4, "пят": 5, "шест": 6, "седьм": 7, "восьм": 8, "девят": 9, "десят": 10}
_EN_MULTIPLIERS = {"twice": 2.0, "double": 2.0, "doubles": 2.0, "doubled": 2.0, "doubling": 2.0, "triple": 3.0, "triples": 3.0,
                   "tripled": 3.0, "halve": 0.5, "halves": 0.5, "halved": 0.5, "halving": 0.5}
_RU_MULTIPLIERS = {"вдвое": 2.0, "втрое": 3.0, "вчетверо": 4.0, "впятеро": 5.0, "вдесятеро": 10.0, "удвоит": 2.0, "удвоить": 2.0,
                   "удвоил": 2.0, "удвоение": 2.0, "утроит": 3.0, "в полтора раза": 1.5}
_ZH_MULTIPLIERS = {"翻倍": 2.0, "翻一番": 2.0, "翻了一番": 2.0, "翻了一倍": 2.0, "翻番": 2.0, "减半": 0.5, "倍增": 2.0}


def _word_value(span: str, language: str) -> float | None:
    try:
        if language == "en":
            from text_to_num import text2num

            cleaned = re.sub(r"^a\s+", "", span.strip(), flags=re.I).replace("-", " ")
            return float(text2num(cleaned.lower(), "en"))
        if language == "ru":
            import number_parser

            value = number_parser.parse_number(span.lower(), language="ru")
            return None if value is None else float(value)
        import cn2an

        return float(cn2an.cn2an(span, "smart"))
    except (ValueError, TypeError, KeyError, IndexError):
        return None


# --- finding numbers ----------------------------------------------------------------------------------------------

def find_numbers(text: str, language: str = "en") -> list[Number]:
    """Every number of ``text`` (citations already blanked out), in order of position."""
    found: list[Number] = []
    taken = [False] * len(text)

    def free(start: int, end: int) -> bool:
        return not any(taken[start:end])

    def add(number: Number) -> None:
        found.append(number)
        for i in range(number.start, number.end):
            taken[i] = True

    for number in _fractions_and_multipliers(text, language):
        if free(number.start, number.end):
            add(number)
    for match in _NUMBER_RE.finditer(text):
        start = match.start("num")
        if not free(start, match.end("num")):
            continue
        if start > 0 and (text[start - 1].isascii() and (text[start - 1].isalpha() or text[start - 1] == "_")):
            continue  # part of an identifier or a code: retention_30d, Q3, H2
        if start > 1 and text[start - 1] == "-" and text[start - 2].isascii() and text[start - 2].isalpha():
            continue  # a model or version name: GPT-4, SKU-12
        digits = _digit_number(match, text, language)
        if digits is not None:
            add(digits)
    for number in _word_numbers(text, language):
        if free(number.start, number.end):
            add(number)
    found.sort(key=lambda n: n.start)
    return _ranges(text, found)


def _context(text: str, start: int, end: int, number: Number) -> Number:
    before = text[max(0, start - 30):start]
    after = text[end:end + 12]
    bound = "lt" if _BOUND_LT.search(before) else ("gt" if (_BOUND_GT.search(before) or _BOUND_AFTER_GT.match(after)) else None)
    if after.lstrip().startswith(("以下", "以内")):
        bound = "lt"
    word_negative = bool(_NEGATIVE_WORD.search(before))
    value = -abs(number.value) if word_negative else number.value
    return replace(number, bound=bound, approx=bool(_APPROX.search(before)), negative_word=number.negative_word or word_negative,
                   value=value)


def _digit_number(match: re.Match[str], text: str, language: str) -> Number | None:
    currency = bool(match.group("cur"))
    value, decimals, _grouped = parse_digits(match.group("num"), language, currency)
    scale_word = (match.group("scale") or "").strip().rstrip(".").lower()
    scale = next((v for k, v in _SCALES.items() if scale_word.startswith(k)), 1.0) if scale_word else 1.0
    if scale_word == "m" and not currency and not re.match(r"\s*(?:USD|\$|dollars)", text[match.end():]):
        scale = 1e6 if match.group("scale") == "M" else 1.0
    end = match.end()
    if match.group("ratio"):
        unit: Unit | None = Unit.MULTIPLE
    else:
        unit, taken = unit_of(text[end:])
        end += taken
        if currency:
            if unit is Unit.MONEY or unit is None or unit is Unit.COUNT:
                unit = Unit.MONEY if unit is not Unit.COUNT else Unit.MONEY
    if unit is None:
        unit = Unit.MONEY if currency else Unit.PLAIN
    sign = match.group("sign") or ""
    negative = sign in ("-", "−", "–")
    start = match.start("sign") if sign else (match.start("cur") if currency else match.start("num"))
    signed = -value if negative else value
    number = Number(start, end, text[start:end], signed * scale, unit, _step(value, decimals, unit, scale),
                    negative_word=negative, ratio=bool(match.group("ratio")))
    return _context(text, start, end, number)


def _word_numbers(text: str, language: str) -> list[Number]:
    pattern = {"en": _EN_WORDS, "ru": _RU_WORDS, "zh": _ZH_WORDS}[language]
    out: list[Number] = []
    for match in pattern.finditer(text):
        span = match.group(0)
        if language == "zh" and _ZH_COMMON.match(span) and not unit_of(text[match.end():])[0]:
            continue
        if language == "zh" and match.start() > 0 and text[match.start() - 1] in "第星周":
            continue  # 第三季度, 星期一
        value = _word_value(span, language)
        if value is None:
            continue
        end = match.end()
        zh_percent = language == "zh" and text[max(0, match.start() - 3):match.start()] == "百分之"
        unit, taken = unit_of(text[end:])
        if zh_percent:
            unit, start = Unit.PERCENT, match.start() - 3
        else:
            start = match.start()
            end += taken
        unit = unit or Unit.PLAIN
        number = Number(start, end, text[start:end], value, unit, _step(value, 0, unit, 1.0) if unit is not Unit.MULTIPLE else 1.0,
                        from_words=True)
        out.append(_context(text, start, end, number))
    return out


def _fraction(start: int, end: int, text: str, num: float, den: float) -> Number:
    return Number(start, end, text[start:end], num / den, Unit.FRACTION, 1 / den, from_words=True)


def _multiple(start: int, end: int, text: str, value: float, step: float = 1.0) -> Number:
    return Number(start, end, text[start:end], value, Unit.MULTIPLE, step, from_words=True)


def _fractions_and_multipliers(text: str, language: str) -> list[Number]:
    out: list[Number] = []
    lower = text.lower()
    if language == "en":
        for m in re.finditer(r"(?<![\w.,])(?:(one|a|two|three|four|five|six|seven|eight|nine|ten|\d{1,2})\s+(?:[a-z]+\s+)?(?:in|out of)\s+(two|three|four|five|six|seven|eight|nine|ten|\d{1,2}))\b(?![.,]\d)", lower):
            num, den = _word_value(m.group(1).replace("a", "one") if m.group(1) == "a" else m.group(1), "en"), _word_value(m.group(2), "en")
            num = num if num is not None else (float(m.group(1)) if m.group(1).isdigit() else None)
            den = den if den is not None else (float(m.group(2)) if m.group(2).isdigit() else None)
            if num and den and num < den <= 20:
                out.append(_fraction(m.start(), m.end(), text, num, den))
        for phrase, (num, den) in sorted(_EN_FRACTIONS.items(), key=lambda kv: -len(kv[0])):
            pattern = phrase.replace(" ", r"[\s-]")
            for m in re.finditer(rf"(?<![\w-]){pattern}(?![\w-])(?!\s+(?:times|an hour|of (?:the )?(?:year|quarter|month|20\d\d)|of 20\d\d))", lower):
                if phrase == "half" and re.search(r"(?:first|second|1st|2nd|next|last)\s+$", lower[:m.start()]):
                    continue  # "the second half of 2025"
                out.append(_fraction(m.start(), m.end(), text, num, den))
        for m in re.finditer(r"\b(\w+(?:[\s-]\w+)?)\s+and\s+a\s+half\s+times\b", lower):
            whole = _word_value(m.group(1), "en") if not m.group(1).isdigit() else float(m.group(1))
            if whole is not None:
                out.append(_multiple(m.start(), m.end(), text, whole + 0.5, 0.5))
        for word, value in _EN_MULTIPLIERS.items():
            for m in re.finditer(rf"\b{word}\b(?![-\s](?:digit|check|down|click|opt))", lower):
                out.append(_multiple(m.start(), m.end(), text, value))
    elif language == "ru":
        for m in re.finditer(r"(?<![\w-])(\w+)\s+из\s+(\w+)(?![\w-])", lower):
            num = float(m.group(1)) if m.group(1).isdigit() else _word_value(m.group(1), "ru")
            den = float(m.group(2)) if m.group(2).isdigit() else _word_value(m.group(2), "ru")
            if num and den and num < den <= 20:
                out.append(_fraction(m.start(), m.end(), text, num, den))
        for m in re.finditer(r"кажд\w+\s+(втор|трет|четв[её]рт|пят|шест|седьм|восьм|девят|десят)\w*", lower):
            out.append(_fraction(m.start(), m.end(), text, 1, _RU_ORDINALS[m.group(1)]))
        for phrase, (num, den) in sorted(_RU_FRACTIONS.items(), key=lambda kv: -len(kv[0])):
            for m in re.finditer(rf"(?<![\w-]){phrase}\w*", lower):
                out.append(_fraction(m.start(), m.end(), text, num, den))
        for m in re.finditer(r"(?<![\w-])полтор[аы](?=\s+(?:мес|дн|недел|год|раз))", lower):
            unit, taken = unit_of(text[m.end():])
            if unit is not None:
                out.append(Number(m.start(), m.end() + taken, text[m.start():m.end() + taken], 1.5, unit, 0.5, from_words=True))
        for m in re.finditer(r"в\s+(\w+)\s+с\s+половиной\s+раз\w*", lower):
            whole = float(m.group(1)) if m.group(1).isdigit() else _word_value(m.group(1), "ru")
            if whole is not None:
                out.append(_multiple(m.start(), m.end(), text, whole + 0.5, 0.5))
        for word, value in sorted(_RU_MULTIPLIERS.items(), key=lambda kv: -len(kv[0])):
            for m in re.finditer(rf"(?<![\w-]){word}\w*", lower):
                out.append(_multiple(m.start(), m.end(), text, value))
    else:
        for m in re.finditer(r"([零〇一二两三四五六七八九十百\d]+)分之([零〇一二两三四五六七八九十\d]+)", text):
            den = float(m.group(1)) if m.group(1).isdigit() else _word_value(m.group(1), "zh")
            num = float(m.group(2)) if m.group(2).isdigit() else _word_value(m.group(2), "zh")
            if num and den and not text[max(0, m.start() - 1):m.start()] == "百":
                out.append(_fraction(m.start(), m.end(), text, num, den))
        for m in re.finditer(r"([一二两三四五六七八九十]|\d)成", text):
            tenths = float(m.group(1)) if m.group(1).isdigit() else _word_value(m.group(1), "zh")
            if tenths is not None:
                out.append(_fraction(m.start(), m.end(), text, tenths, 10))
        for m in re.finditer(r"一半", text):
            out.append(_fraction(m.start(), m.end(), text, 1, 2))
        for m in re.finditer(r"([一二两三四五六七八九十]+|\d+)倍半", text):
            whole = float(m.group(1)) if m.group(1).isdigit() else _word_value(m.group(1), "zh")
            if whole is not None:
                out.append(_multiple(m.start(), m.end(), text, whole + 0.5, 0.5))
        for word, value in sorted(_ZH_MULTIPLIERS.items(), key=lambda kv: -len(kv[0])):
            for m in re.finditer(word, text):
                out.append(_multiple(m.start(), m.end(), text, value))
    # keep the longest of overlapping matches
    out.sort(key=lambda n: (n.start, -(n.end - n.start)))
    kept: list[Number] = []
    for number in out:
        if not kept or number.start >= kept[-1].end:
            kept.append(_context(text, number.start, number.end, number))
    return kept


def _ranges(text: str, numbers: list[Number]) -> list[Number]:
    """Numbers joined by a range mark ("60–80%", "от 30 до 50", "30至50"): both marked, the first takes the second's unit."""
    out = list(numbers)
    for i in range(len(out) - 1):
        first, second = out[i], out[i + 1]
        between = text[first.end:second.start]
        if not _RANGE_JOIN.match(between.replace("from", "").replace("от", "")) and not re.fullmatch(r"\s*(?:to|до|至|到|–|-|—)\s*", between):
            continue
        unit = first.unit if first.unit is not Unit.PLAIN else second.unit
        first_value = abs(first.value) if first.negative_word and between.strip() in "–-—" else first.value
        out[i] = replace(first, unit=unit, in_range=True, value=first_value, negative_word=False if first_value >= 0 else first.negative_word)
        out[i + 1] = replace(second, in_range=True, value=abs(second.value) if second.negative_word and second.text.lstrip()[:1] in "–-—" else second.value)
    return out


def to_days(value: float, unit: Unit) -> float | None:
    """``value`` in days when ``unit`` is a duration."""
    return value * DAYS_PER[unit] if unit in DAYS_PER else None
