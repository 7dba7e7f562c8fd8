"""From one sentence to its claims: which numbers are claims, what each is about, which citations back it, what kind.

- **Not claims** (structure): numbers inside a metric's name ("90-day retention", "удержание на 30-й день",
  "90天留存率"), dates and years ("31.12.2025", "in 2025", "2025年", "в 2025 году"), heading and list numbering
  ("### 2.3", "1."), stage/step/week/quarter/table references ("Stage 3", "этап 2", "第3步", "Q4", "табл. 2",
  "表2.1"), ordinals ("4-м", "1st"), a scale's maximum ("out of 100", "满分5分"), number words below ten without a
  share or multiple unit ("one of the plays", "一些"), and — only when uncited — the numbers of the templates' fixed
  text (``exemptions``). A number between 1990 and 2100 is a year only in a year's context; "2,050 customers" is a count.
- **Citations**: a number is backed by the first group of citations after it in its sentence, else by the last group
  before it. ``[proposal]`` is a citation group of its own: the numbers it backs are the plan's proposals.
- **Subject**: the nearest mention of a metric in the number's clause whose facts have a unit the number can be
  stated in (so "42% of customers" is about the rate after it, not the customer count).
- **Kind**: target (a target/band/benchmark word next to the number), change ("by 30.3 pts", "на 30,3 п. п.",
  "降低30.3个百分点", with the sign its verb carries), forecast (will/expect/прогноз/将/预计…), proposal, current.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from enum import StrEnum

from prompts.grounding.numbers import Number, Unit, find_numbers
from prompts.grounding.subjects import Mention, SubjectIndex

# "[F:id]", and the variants models write: "[F: id]", "[F:a, F:b]", "[F:a; b]", "【F:id】".
_MARKER = re.compile(r"[\[【]\s*F\s*:\s*[A-Za-z0-9_.\-]+(?:\s*[,;]\s*(?:F\s*:\s*)?[A-Za-z0-9_.\-]+)*\s*[\]】]|[\[【]\s*proposal\s*[\]】]", re.I)
PROPOSAL = re.compile(r"[\[【]\s*proposal\s*[\]】]", re.I)
_IDS = re.compile(r"(?:F\s*:\s*)?([A-Za-z0-9_.\-]+)")
_TABLE_ID_CELL = re.compile(r"(?<=\|)\s*`?([a-z][a-z0-9_]*(?:\.[a-z0-9_]+)*)`?\s*(?=\|)")


def cited_ids(marker: str) -> tuple[str, ...]:
    """The fact ids of one citation marker ("[F:a, F:b]" → ("a", "b")); () for [proposal]."""
    if PROPOSAL.fullmatch(marker):
        return ()
    inner = re.sub(r"^[\[【]\s*F\s*:\s*|\s*[\]】]$", "", marker, flags=re.I)
    return tuple(m.group(1).rstrip(".") for part in re.split(r"[,;]", inner) if (m := _IDS.fullmatch(part.strip())))


class ClaimKind(StrEnum):
    CURRENT = "current"
    TARGET = "target"
    CHANGE = "change"
    FORECAST = "forecast"
    PROPOSAL = "proposal"


@dataclass(frozen=True)
class Claim:
    """One number stated as a claim, with what it is about and what backs it."""

    number: Number
    sentence: str
    kind: ClaimKind
    citations: tuple[str, ...] = ()  # fact ids of the citation group backing the number
    proposal: bool = False
    subject: frozenset[str] = field(default=frozenset())  # fact ids the clause names next to the number
    named: frozenset[str] = field(default=frozenset())  # fact ids named anywhere in the sentence
    direction: int = 0  # -1/+1 when a verb or comparative carries the sign ("lowers by", "ниже на", "低")
    subject_text: str = ""  # the words that named the subject
    language: str = "en"

    @property
    def text(self) -> str:
        return self.number.text.strip()


_MONTHS_EN = r"(?:January|February|March|April|May|June|July|August|September|October|November|December|Jan\.?|Feb\.?|Mar\.?|Apr\.?|Jun\.?|Jul\.?|Aug\.?|Sep\.?|Sept\.?|Oct\.?|Nov\.?|Dec\.?)"
_MONTHS_RU = r"(?:январ|феврал|март|апрел|ма[йяе]|июн|июл|август|сентябр|октябр|ноябр|декабр)\w*"
_YEAR = r"(?:199\d|20\d\d|2100)"
_STRUCTURE = tuple(re.compile(p, re.I) for p in [
    r"\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2})?Z?)?",
    r"\b\d{1,2}\.\d{1,2}\.\d{2,4}\b",
    rf"\b\d{{1,2}}\s+{_MONTHS_EN}(?:\s+{_YEAR})?",
    rf"{_MONTHS_EN}\s+\d{{1,2}}(?:st|nd|rd|th)?(?:,?\s+{_YEAR})?",
    rf"{_MONTHS_EN}\s+{_YEAR}",
    rf"\b\d{{1,2}}\s+{_MONTHS_RU}(?:\s+{_YEAR})?",
    rf"{_YEAR}\s*年(?:\s*\d{{1,2}}\s*月(?:\s*\d{{1,2}}\s*日)?)?",
    r"\d{1,2}\s*月\s*\d{1,2}\s*日|\d{1,2}\s*月(?=前|底|末|初|份|中|之前|以前)",
    rf"(?:\b(?:in|by|since|until|till|through|during|for|of|from|to|early|mid|late|end of|year|FY|CY|Q[1-4]|H[12])[\s-]+){_YEAR}\b(?!\s*(?:customers?|accounts?|leads?|users?|subscribers?))",
    rf"\b{_YEAR}\s*[–-]\s*{_YEAR}\b",
    rf"\b{_YEAR}\s*(?:г\.|гг\.|год\w*)",
    rf"(?:\b(?:в|к|до|с|за|на)\s+){_YEAR}(?=\s+год)",
    r"\b(?:FY|CY)\s?\d{2,4}\b",
    r"\b(?:stages?|steps?|phases?|weeks?|tiers?|tables?|figures?|fig\.|sections?|chapters?|levels?|priority|play|No\.|#)\s*\d+(?:\.\d+)*(?:\s*(?:[–-]|and|to)\s*\d+)?",
    r"\bdays?\s+\d+(?:\s*[–-]\s*\d+)?",
    r"\btop[- ]\d+\b|\b\d+(?:st|nd|rd|th)\b|\b\d+/7\b|\b1:1\b|\b\d{1,2}:\d{2}\b",
    r"(?:этап\w*|шаг\w*|недел\w*|квартал\w*|табл\.?|таблиц\w*|рис\.?|раздел\w*|глав\w*|пункт\w*|п\.|№|стади\w*)\s*\d+(?:[.,]\d+)*(?:\s*[–-]\s*\d+)?",
    r"\b\d+(?:\s*[–-]\s*\d+)?\s*-?\s*(?:й|я|е|м|го|му|х|ми|ый|ой|ий)\b",
    r"第\s*\d+(?:\.\d+)*(?:\s*[–-]\s*\d+)?",
    r"(?:阶段|表|图|节|步骤)\s*\d+(?:\.\d+)*(?:\s*[–-]\s*\d+)?",
    r"\d+\s*季度",
    r"(?:out of|из|/)\s*(?:5|10|100)\b(?!\s*%)|满分\s*\d+\s*分?|\b0\s*[–-]\s*100\b|\(?\b(?:0\s*[–-]\s*(?:6|10)|9\s*[–-]\s*10|7\s*[–-]\s*8)\b\)?",
    r"\b\d{1,2}/\d{1,2}/\d{2,4}\b|\b\d+(?:/\d+){2,}(?=[\s-]*(?:day|дн|天))",
    rf"\b{_YEAR}\s+(?:cohorts?|budgets?|plans?|reports?|results|data|season|roadmap|reviews?|targets?|goals?|OKRs?|planning)\b",
    rf"\|\s*{_YEAR}\s*(?=\|)",
    r"\b\d+(?:[.,]\d+)?\s*[ap]\.?m\.?\b|\b\d+\s*(?:h|min)\b",
    rf"(?:\b(?:в|к|до|с|за|концу|конца|началу|начала|середине|середины)\s+){_YEAR}\b(?!\s*(?:клиент|лид|аккаунт|подписчик|компани|%|долл|\$))",
    rf"{_YEAR}\s*(?:财年|年度)|{_YEAR}[-\s]?(?:Q|H)[1-4]\b",
    r"\(\d\)|\b(?:version|v\.)\s*\d+(?:\.\d+)*",
    r"\b\d+(?:/\d+)*-(?:day|week|month|year)s?\b(?=[\s-]+(?:retention|churn|window|cohorts?|period|plan|trial|horizon|lookback|"
    r"rolling|active|activation|forecast|program|programme|pilot|sprint|campaign|check-in|review|cadence|onboarding|journey))",
    r"\b\d+-(?:дневн|недельн|месячн|летн)\w*|\b\d+\s*(?:дн\w*|месяц\w*)(?=\s+(?:удержани|отток|окн|когорт))",
    r"\d+\s*(?:天|日|个月)(?=留存|流失|内|活跃|窗口|周期内|复购)",
])
_NUMBERING = re.compile(r"^\s*(?:#+\s*)?(?:[-*+>|]\s*)?(?:\*\*|__)?(?:\(?\d+(?:\.\d+)*[.)、]\s?|#+\s*\d+(?:\.\d+)*\.?\s|"
                        r"\d+\.\d+(?:\.\d+)*\.?\s+(?=[A-ZА-ЯЁ\u4e00-\u9fff]))")

_TARGET_WORDS = re.compile(r"target|band|benchmark|goal|range|corridor|floor|ceiling|threshold|seed|norm|"
                           r"цел\w*|ориентир\w*|диапазон\w*|коридор\w*|норм\w*|бенчмарк\w*|границ\w*|порог\w*|"
                           r"目标|基准|区间|范围|下限|上限|标准", re.I)
_FORECAST_WORDS = re.compile(r"\b(?:will|would|should|could|can|expect\w*|project\w*|forecast\w*|predict\w*|aim\w*|plan\w* to|"
                             r"going to|estimate\w*|next year|by Q[1-4]|by the end)\b|"
                             r"будет|будут|достигнет|вырастет|снизится|сократится|повысит|увеличит|добавит|удвоит|может|могут|"
                             r"ожида\w+|прогноз\w*|планиру\w+|позволит|вернёт|вернет|"
                             r"将|预计|预期|有望|可能|可以|应该|应|会|计划|争取", re.I)
_CHANGE_BY = re.compile(r"\bby\s*$|(?<![\w])на\s*$|[降提减增]\w{0,2}\s*$|(?:低|高|高出|多|少)\s*$", re.I)
_DOWN = re.compile(r"\b(?:lower\w*|reduc\w*|cuts?|cutting|drops?|dropped|dropping|fall\w*|fell|decreas\w*|less|fewer|down|declin\w*|worse)\b|"
                   r"сниж\w*|сниз\w*|уменьш\w*|ниже|реже|меньше|сокращ\w*|пада\w*|упал\w*|"
                   r"降低|下降|减少|低于|低|降至|少", re.I)
_UP = re.compile(r"\b(?:rais\w*|increas\w*|lifts?|boosts?|more|higher|up|improv\w*|grows?|grew|rises?|rose)\b|"
                 r"повыш\w*|выше|чаще|больше|увелич\w*|подним\w*|поднима\w*|раст\w*|"
                 r"提高|提升|高出|增加|高于|高|多", re.I)
_CLAUSE_BREAK = re.compile(r"(?<!\d)[,，](?!\d)|[;；、]|(?<!\d)[:：](?!\d)|\s(?:and|while|whereas|but|versus|vs\.?|against|compared with)\s|"
                           r",?\s(?:а|но|тогда как|против)\s|而|但|与此同时|相比", re.I)


def mask_markers(sentence: str) -> str:
    """The sentence with citations and [proposal] markers blanked (same length, so spans stay valid)."""
    return _MARKER.sub(lambda m: " " * len(m.group(0)), sentence)


def _marker_groups(sentence: str, known: dict[str, str]) -> list[tuple[int, int, tuple[str, ...], bool]]:
    """(start, end, cited ids, is_proposal) of each run of adjacent markers. In a Markdown table row without markers,
    a cell that is exactly a fact id ("| `activation_rate` | 58.5% |", the layout the measurement prompt asks for)
    cites that fact for the row."""
    groups: list[tuple[int, int, tuple[str, ...], bool]] = []
    if sentence.lstrip().startswith("|") and not _MARKER.search(sentence):
        for match in _TABLE_ID_CELL.finditer(sentence):
            if match.group(1) in known:
                groups.append((match.start(1), match.end(1), (match.group(1),), False))
        return groups
    for match in _MARKER.finditer(sentence):
        ids = cited_ids(match.group(0))
        proposal = bool(PROPOSAL.fullmatch(match.group(0)))
        if groups and not sentence[groups[-1][1]:match.start()].strip():
            start, _end, old_ids, old_prop = groups[-1]
            groups[-1] = (start, match.end(), old_ids + ids, old_prop or proposal)
        else:
            groups.append((match.start(), match.end(), ids, proposal))
    return groups


def _backing(number: Number, groups: list[tuple[int, int, tuple[str, ...], bool]]) -> tuple[tuple[str, ...], bool]:
    after = [g for g in groups if g[0] >= number.end]
    if after:
        return after[0][2], after[0][3]
    before = [g for g in groups if g[1] <= number.start]
    if before:
        return before[-1][2], before[-1][3]
    return (), False


def _structural_spans(masked: str, mentions: list[Mention]) -> list[tuple[int, int]]:
    spans = [(m.start, m.end) for m in mentions]
    spans += [(m.start(), m.end()) for pattern in _STRUCTURE for m in pattern.finditer(masked)]
    numbering = _NUMBERING.match(masked)
    if numbering:
        spans.append((numbering.start(), numbering.end()))
    return spans


def _clause_of(masked: str, position: int) -> tuple[int, int]:
    start, end = 0, len(masked)
    for match in _CLAUSE_BREAK.finditer(masked):
        if match.end() <= position:
            start = match.end()
        elif match.start() >= position:
            end = match.start()
            break
    return start, end


def compatible(number: Number, unit: str) -> bool:
    """Whether a number written in ``number.unit`` can state a fact of ``unit`` (whatever the value)."""
    return number.unit in _COMPATIBLE.get(unit, (Unit.PLAIN,))


_COMPATIBLE: dict[str, tuple[Unit, ...]] = {
    "ratio": (Unit.PERCENT, Unit.POINTS, Unit.FRACTION, Unit.PLAIN),
    "money": (Unit.MONEY, Unit.PLAIN),
    "days": (Unit.DAYS, Unit.WEEKS, Unit.MONTHS, Unit.YEARS, Unit.PLAIN),
    "months": (Unit.MONTHS, Unit.DAYS, Unit.WEEKS, Unit.YEARS, Unit.PLAIN),
    "count": (Unit.COUNT, Unit.PLAIN),
    "score": (Unit.PLAIN, Unit.POINTS),
    "multiple": (Unit.MULTIPLE, Unit.PLAIN, Unit.FRACTION),
}


WEAK_SUBJECTS = frozenset({"population.customers", "population.leads"})  # "customers", "клиенты", "客户": any sentence has them


def _subject(number: Number, mentions: list[Mention], clause: tuple[int, int], units: dict[str, str]) -> tuple[frozenset[str], str]:
    """The facts the clause names next to ``number``: the most specific compatible mention, the nearest of equals."""
    options: list[tuple[bool, int, float, Mention, frozenset[str]]] = []
    for mention in mentions:
        if not (clause[0] <= mention.start and mention.end <= clause[1]):
            continue
        ids = frozenset(fid for fid in mention.fact_ids if compatible(number, units.get(fid, "")))
        if not ids:
            continue
        distance = number.start - mention.end if mention.end <= number.start else (mention.start - number.end) * 1.2
        if ids <= WEAK_SUBJECTS and number.unit is not Unit.COUNT:
            continue  # "customers" names the population only for a count of customers
        options.append((ids <= WEAK_SUBJECTS, len(ids), distance, mention, ids))
    if not options:
        return frozenset(), ""
    options.sort(key=lambda o: (o[0], o[1] > 3, o[2], o[1]))
    return options[0][4], options[0][3].text


def _is_claim(number: Number, structural: list[tuple[int, int]]) -> bool:
    digits = re.search(r"\d", number.text)
    anchor = number.start + (digits.start() if digits else 0)
    for start, end in structural:
        if start <= anchor < end:
            # "stage 45%", "each week 37 accounts": the structure word took the digits, the unit says it is a claim
            return number.unit is not Unit.PLAIN and number.end > end and not number.text[end - number.start:].strip().startswith(("年",))
    return True


def _small_word_number(number: Number, subject: frozenset[str]) -> bool:
    """Number words below ten that are no claim: without a unit or counting things ("one of the plays", "一些",
    "одного клиента"), zero ("below zero"), or a duration not stated about a metric ("within two quarters")."""
    if not number.from_words:
        return False
    if number.value == 0:
        return True
    if abs(number.value) >= 10:
        return False
    if number.unit in (Unit.PLAIN, Unit.COUNT):
        return True
    return number.unit in (Unit.DAYS, Unit.WEEKS, Unit.MONTHS, Unit.YEARS, Unit.HOURS) and not subject


def sentence_claims(sentence: str, language: str, index: SubjectIndex, units: dict[str, str]) -> list[Claim]:
    """The claims of one sentence (structure left out; see the module docstring)."""
    masked = mask_markers(sentence)
    mentions = index.mentions(masked)
    numbers = find_numbers(masked, language)
    structural = _structural_spans(masked, mentions)
    groups = _marker_groups(sentence, units)
    named = frozenset(fid for m in mentions for fid in m.fact_ids)
    claims: list[Claim] = []
    for number in numbers:
        if not _is_claim(number, structural):
            continue
        citations, proposal = _backing(number, groups)
        clause = _clause_of(masked, number.start)
        subject, subject_text = _subject(number, mentions, clause, units)
        if _small_word_number(number, subject):
            continue
        before = masked[max(0, number.start - 40):number.start]
        after = masked[number.end:min(clause[1], number.end + 16)]
        kind = ClaimKind.CURRENT
        direction = 0
        if proposal:
            kind = ClaimKind.PROPOSAL
        elif _TARGET_WORDS.search(before) or _TARGET_WORDS.search(after):
            kind = ClaimKind.TARGET
        elif _CHANGE_BY.search(before) or number.unit is Unit.POINTS:
            kind = ClaimKind.CHANGE
        elif _FORECAST_WORDS.search(masked[clause[0]:clause[1]]):
            kind = ClaimKind.FORECAST
        if kind in (ClaimKind.CHANGE, ClaimKind.CURRENT, ClaimKind.FORECAST):
            span = masked[clause[0]:clause[1]]
            down, up = _DOWN.search(span), _UP.search(span)
            direction = -1 if down and not up else (1 if up and not down else 0)
        claims.append(Claim(number, sentence, kind, citations, proposal, subject, named, direction, subject_text, language))
    return claims
