"""What every metric and fact is called, in English, Russian and Chinese: names and synonyms a plan may use.

A plan sentence names its subject in words ("gross revenue retention", "валовое удержание выручки", "总收入留存率"),
rarely by id. The grounding verifier (``prompts.grounding``) resolves those words to fact ids with these tables, so
it can tell a number stated about the cited metric from one stated about another. Each entry is a ``Names``: phrases
per language, the canonical name first. Phrases are matched word by word on stems (en/ru, so inflections match) or
as substrings (zh); a phrase may contain a number when the number is part of the name ("90-day retention").

- ``METRIC_NAMES``: one entry per metric of the registry (``lifecycle.metrics.registry``; a test pins that every
  definition has all three languages).
- ``fact_names(fact_id)``: any fact id of the bundle — a metric, a metric's breakdown row (``<metric>.<key>``:
  the metric's names plus the key's), and the fact families of ``lifecycle.facts.sources`` (population, stage
  distribution, progression drivers, health, at-risk, engagement by stage, CLV, per-customer facts) and of
  ``lifecycle.facts.derived`` (funnel, bottleneck, stage expected days, change / previous period, gap to target).
Sources: the metric names of seed 002 (Key Metrics table) and seed 000 (framework), in their usual Russian and
Chinese renderings in SaaS analytics writing.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache

LANGUAGES = ("en", "ru", "zh")


@dataclass(frozen=True)
class Names:
    """Names of one subject per language (canonical first)."""

    en: tuple[str, ...] = field(default=())
    ru: tuple[str, ...] = field(default=())
    zh: tuple[str, ...] = field(default=())

    def of(self, language: str) -> tuple[str, ...]:
        """The phrases of ``language`` (en, ru or zh)."""
        return getattr(self, language)

    def __add__(self, other: Names) -> Names:
        return Names(self.en + other.en, self.ru + other.ru, self.zh + other.zh)

    def complete(self) -> bool:
        """True when every language has at least one name."""
        return all(self.of(language) for language in LANGUAGES)


def n(en: str, ru: str, zh: str) -> Names:
    """``Names`` from ``|``-separated phrase lists."""
    return Names(*(tuple(p.strip() for p in text.split("|") if p.strip()) for text in (en, ru, zh)))


METRIC_NAMES: dict[str, Names] = {
    # acquisition
    "lead_to_mql_rate": n("lead to MQL rate|lead-to-MQL|lead → MQL|leads to MQL|leads become MQLs|MQL rate",
                          "конверсия лидов в MQL|лид → MQL|лидов в MQL|доля MQL", "线索到MQL|线索转MQL|MQL转化率|线索→MQL"),
    "mql_to_sql_rate": n("MQL to SQL rate|MQL-to-SQL|MQL → SQL|MQLs become SQLs|MQLs turn into|sales-qualified",
                         "конверсия MQL в SQL|MQL в SQL|MQL → SQL|MQL становятся SQL", "MQL到SQL|MQL转SQL|MQL转化为SQL|MQL→SQL"),
    "sql_to_customer_rate": n("SQL to customer rate|SQL-to-customer|SQL → customer|SQLs close|SQLs become customers",
                              "конверсия SQL в клиентов|SQL в клиентов|SQL → клиент", "SQL到客户|SQL转客户|SQL→客户"),
    "lead_to_customer_rate": n("lead to customer rate|lead-to-customer|lead → customer|leads become customers|lead conversion|"
                               "leads convert|leads to customers|win rate",
                               "конверсия лидов в клиентов|лидов в клиентов|лид → клиент|конверсия лидов|лиды становятся клиентами",
                               "线索到客户|线索转客户|线索转化率|线索→客户|线索成为客户|线索最终成为客户"),
    "conversion_by_channel": n("conversion by channel|channel conversion|conversion rate by channel|converts|conversion",
                               "конверсия по каналам|конверсия канала|конвертирует|конверсия", "渠道转化率|各渠道转化率|转化率|渠道"),
    "cac": n("customer acquisition cost|CAC|acquisition cost|cost to acquire|cost per new customer",
             "стоимость привлечения клиента|стоимость привлечения|CAC|затраты на привлечение", "获客成本|客户获取成本|CAC|获客费用"),
    "time_to_convert_days": n("time to convert|days to convert|to convert|to close|lead takes|sales cycle|time to close",
                              "время до конверсии|время конверсии|стать клиентом|конвертируется|цикл сделки|до закрытия",
                              "转化时间|转化周期|成交周期|完成转化|成为客户"),
    # activation
    "activation_rate": n("activation rate|activation|activate|activated|activating",
                         "уровень активации|активация|активируются|активировались|доля активации|активацию",
                         "激活率|激活|完成激活"),
    "event_conversion_rate": n("event conversion rate|conversion rate|convert|converted|conversion within",
                               "конверсия событий|конверсия|конвертируются|доля конверсии",
                               "事件转化率|转化率|转化"),
    "time_to_value_days": n("time to value|time to first value|TTV|reach first value|see value|first value|value realization time",
                            "время до ценности|время до первой ценности|получают ценность|первой ценности|TTV",
                            "价值实现时间|首次价值|获得价值|实现价值|TTV"),
    "onboarding_completion_rate": n("onboarding completion|onboarding completion rate|complete onboarding|finish onboarding|"
                                    "every onboarding step|onboarding steps|finish every onboarding step",
                                    "завершение онбординга|завершают онбординг|проходят онбординг|доля завершения онбординга|"
                                    "шаги онбординга|онбординг полностью",
                                    "入职完成率|完成入职|完成全部入职步骤|引导完成率|完成引导|完成全部引导"),
    "early_feature_adoption": n("early feature adoption|early adoption|adopt a core feature early",
                                "раннее освоение функций|раннее внедрение функций|ранее освоение", "早期功能采用率|早期采用|早期功能采用"),
    # retention
    "stickiness": n("stickiness|DAU/MAU|daily over monthly users|come back daily",
                    "липкость|липкость продукта|DAU/MAU|вовлечённость DAU/MAU", "粘性|用户粘性|DAU/MAU|日活/月活"),
    "feature_adoption_rate": n("feature adoption rate|feature adoption|core feature use|use each core feature|uses each feature",
                               "освоение функций|доля освоения функций|использование функций|пользуются функцией|пользуются каждой функцией",
                               "功能采用率|功能使用率|功能采用|使用核心功能"),
    "logo_churn_rate": n("logo churn rate|logo churn|customer churn|churn rate|monthly churn|churn|lose customers|customers churn|"
                         "churning|we lose",
                         "отток клиентов|ежемесячный отток|отток|уровень оттока|уходят|теряем клиентов|ушли",
                         "客户流失率|月度流失率|流失率|客户流失|流失|月流失率"),
    "retention_30d": n("30-day retention|30 day retention|day-30 retention|retention at 30 days|30-day retention rate",
                       "удержание на 30-й день|30-дневное удержание|удержание за 30 дней|удержание 30 дней|на 30-й день",
                       "30天留存率|30天留存|30日留存|第30天留存"),
    "retention_60d": n("60-day retention|60 day retention|day-60 retention|retention at 60 days",
                       "удержание на 60-й день|60-дневное удержание|удержание за 60 дней|на 60-й день",
                       "60天留存率|60天留存|60日留存|第60天留存"),
    "retention_90d": n("90-day retention|90 day retention|day-90 retention|retention at 90 days|at 90 days",
                       "удержание на 90-й день|90-дневное удержание|удержание за 90 дней|на 90-й день|на 90-й",
                       "90天留存率|90天留存|90日留存|第90天留存"),
    "median_tenure_days": n("median tenure|tenure|relationship longevity|customer lifetime in days",
                            "медианный срок жизни клиента|срок жизни клиента|длительность отношений", "客户生命周期时长|中位客户寿命|客户关系时长"),
    # revenue
    "mrr": n("monthly recurring revenue|MRR", "ежемесячная регулярная выручка|регулярная выручка|MRR|ежемесячная выручка",
             "月经常性收入|月度经常性收入|MRR|月度收入"),
    "arr": n("annual recurring revenue|ARR|run rate|ARR run rate", "годовая регулярная выручка|ARR|годовая выручка",
             "年经常性收入|年化经常性收入|ARR|年度经常性收入"),
    "arpa": n("average revenue per account|ARPA|revenue per account|avg. revenue per account",
              "средняя выручка на аккаунт|выручка на аккаунт|ARPA|средний доход на клиента", "每账户平均收入|ARPA|客均收入|账户平均收入"),
    "new_mrr": n("new MRR|MRR from new customers|new revenue", "новый MRR|новая MRR|новые клиенты принесли|MRR новых клиентов",
                 "新增MRR|新MRR|新客户MRR"),
    "expansion_mrr": n("expansion MRR|expansion revenue|expansion brought|expansion", "MRR расширения|расширение MRR|расширение принесло|расширение",
                       "扩展MRR|扩展收入|扩张MRR"),
    "contraction_mrr": n("contraction MRR|contraction|downgrades", "MRR сокращения|сокращение MRR|сокращение|даунгрейд",
                         "收缩MRR|收缩|降级MRR"),
    "churned_mrr": n("churned MRR|lost MRR|MRR lost to churn", "потерянный MRR|отток MRR|ушедший MRR", "流失MRR|流失的MRR"),
    "reactivation_mrr": n("reactivation MRR|reactivated revenue|win-back MRR", "MRR реактивации|возвращённый MRR", "重新激活MRR|召回MRR"),
    "nrr": n("net revenue retention|NRR|net dollar retention|NDR|net retention",
             "чистое удержание выручки|NRR|чистое удержание", "净收入留存率|净收入留存|NRR|净留存率"),
    "grr": n("gross revenue retention|GRR|gross retention|gross dollar retention",
             "валовое удержание выручки|GRR|валовое удержание", "总收入留存率|总收入留存|GRR|毛收入留存率"),
    "gross_mrr_churn_rate": n("gross MRR churn|gross MRR churn rate|gross revenue churn|revenue churn",
                              "валовой отток MRR|отток выручки (брутто)|отток выручки|валовый отток MRR", "总MRR流失率|MRR总流失率|收入流失率"),
    "net_mrr_churn_rate": n("net MRR churn|net MRR churn rate|net revenue churn|net churn",
                            "чистый отток MRR|чистый отток выручки|чистый отток", "净MRR流失率|MRR净流失率|净流失率"),
    "quick_ratio": n("quick ratio|SaaS quick ratio", "quick ratio|коэффициент quick ratio|SaaS quick ratio", "快速比率|SaaS快速比率"),
    "ltv": n("customer lifetime value|lifetime value|LTV|CLV", "пожизненная ценность клиента|LTV|ценность клиента", "客户终身价值|终身价值|LTV"),
    "ltv_to_cac": n("LTV to CAC|LTV:CAC|LTV/CAC|LTV-to-CAC|LTV to CAC ratio|LTV is|times CAC",
                    "отношение LTV к CAC|LTV:CAC|LTV/CAC|LTV к CAC|соотношение LTV", "LTV与CAC之比|LTV:CAC|LTV/CAC|LTV与CAC|CAC的"),
    "cac_payback_months": n("CAC payback|payback period|payback|pays back|CAC payback period",
                            "окупаемость CAC|срок окупаемости|окупаемость|окупается", "获客成本回收期|CAC回收期|回收期|回本周期"),
    # orders
    "repeat_purchase_rate": n("repeat purchase rate|repeat purchase|buy again|repeat buyers",
                              "доля повторных покупок|повторные покупки|повторная покупка", "复购率|重复购买率|复购"),
    "purchase_frequency": n("purchase frequency|orders per customer|purchases per customer",
                            "частота покупок|заказов на клиента", "购买频率|人均订单数"),
    "average_order_value": n("average order value|AOV|order value", "средний чек|средняя стоимость заказа|AOV", "平均订单价值|客单价|AOV"),
    # advocacy
    "nps": n("Net Promoter Score|NPS|promoter score", "индекс NPS|NPS|индекс лояльности", "净推荐值|NPS|净推荐分"),
    "nps_promoter_share": n("promoter share|promoters|share of promoters", "доля промоутеров|промоутеров|промоутеры|сторонники",
                            "推荐者占比|推荐者|推荐者比例|支持者"),
    "nps_detractor_share": n("detractor share|detractors|share of detractors", "доля детракторов|детракторов|детракторы|критики|критиков",
                             "贬损者占比|贬损者|贬损者比例|批评者"),
    "referral_rate": n("referral rate|refer a peer|refer at least one|referrals|customers who refer",
                       "реферальная активность|доля рекомендаций|рекомендовали|давших рекомендацию|рефералы", "推荐率|推荐客户比例|推荐"),
    "referral_conversion_rate": n("referral conversion rate|referral conversion|referred leads convert",
                                  "конверсия рефералов|конверсия рекомендаций", "推荐转化率|推荐线索转化率"),
    "advocacy_generation_rate": n("advocacy generation rate|advocacy generation|advocates", "генерация адвокатов|доля адвокатов|адвокаты бренда",
                                  "拥护者生成率|倡导者比例|拥护率"),
    # engagement
    "email_open_rate": n("email open rate|open rate|opens", "открываемость писем|открываемость|доля открытий", "邮件打开率|打开率"),
    "email_click_rate": n("email click rate|click rate|clicks", "кликабельность писем|кликабельность|доля кликов|CTR", "邮件点击率|点击率"),
    "click_to_open_rate": n("click-to-open rate|click to open|CTOR", "клики к открытиям|CTOR|доля кликов от открытий", "点击打开率|点开率|CTOR"),
    # flow
    "progression_rate": n("stage progression rate|progression rate|progression|moved up a stage|progressed a stage|moved on|"
                          "move up a stage|next stage|progressed",
                          "доля продвижения|продвижение по этапам|перешли на следующий этап|следующий этап|продвинулись|доля перехода",
                          "阶段进阶率|进阶率|进入下一阶段|推进|进阶"),
    "regression_rate": n("stage regression rate|regression rate|regression|moved back a stage|slipped back",
                         "доля регресса|регресс|откат на предыдущий этап", "阶段退阶率|退阶率|退回上一阶段|倒退"),
    "stagnation_rate": n("stagnation rate|stagnation|stalled|stall|stuck", "стагнация|доля стагнации|застряли|застревают|останавливаются",
                         "停滞率|停滞|停滞不前|卡住"),
    "stage_velocity_days": n("stage velocity|days per stage|time in stage|median days per stage|spend a median",
                             "скорость прохождения этапа|время на этапе|длительность этапов|дней на этап|медианное время на этапе",
                             "阶段速度|每阶段天数|阶段停留时间|中位停留时间|停留时间"),
    "lifecycle_completion_rate": n("lifecycle completion rate|lifecycle completion|complete the lifecycle|full lifecycle|whole lifecycle|"
                                   "reach advocacy", "завершение жизненного цикла|доля завершения цикла|жизненный цикл|весь цикл",
                                   "生命周期完成率|完成生命周期|完整生命周期|整个生命周期"),
}

# Keys of breakdown rows and of fact families: stages (all bundled stage models), channels, features, signals, reasons.
KEY_NAMES: dict[str, Names] = {
    "awareness": n("awareness|discovery|awareness stage", "осведомлённость|знакомство|этап осведомлённости|осведомлённости", "认知阶段|认知|发现"),
    "evaluation": n("evaluation|consideration|evaluation stage", "оценка|этап оценки|рассмотрение|на оценке", "评估阶段|评估|考虑"),
    "purchase_onboarding": n("purchase and onboarding|onboarding|purchase|onboarding stage",
                             "покупка и онбординг|онбординг|этап онбординга|покупка", "购买与入职|入职|购买与上手|上手|入职阶段|购买"),
    "adoption": n("adoption|value realization|adoption stage|adopters|in adoption",
                  "внедрение|этап внедрения|получение ценности|на этапе внедрения", "采用阶段|采用|价值实现阶段|采用与价值实现"),
    "growth_expansion": n("growth and expansion|growth|expansion stage|growth stage",
                          "рост и расширение|этап роста|рост", "增长与扩展|增长阶段|增长|扩展阶段"),
    "loyalty_advocacy": n("loyalty and advocacy|loyalty|advocacy stage|advocacy", "лояльность и адвокация|лояльность|адвокация",
                          "忠诚与拥护|忠诚|拥护阶段|拥护"),
    "churned": n("churned|churned customers|lost customers", "ушедшие|ушли в отток|отток|ушедших клиентов", "已流失|流失客户|已流失客户"),
    "at_risk": n("at risk|at-risk", "под угрозой|в зоне риска|сегмент риска|риска", "风险|有风险|风险客户"),
    "dormant": n("dormant", "спящие|неактивные", "休眠"),
    "reactivated": n("reactivated", "реактивированные|вернувшиеся", "重新激活"),
    "unclassified": n("unclassified", "без этапа|неклассифицированные", "未分类"),
    "acquisition": n("acquisition", "привлечение", "获客"),
    "activation": n("activation stage", "этап активации", "激活阶段"),
    "retention": n("retention stage", "этап удержания", "留存阶段"),
    "revenue": n("revenue stage", "этап выручки", "收入阶段"),
    "referral": n("referral|referrals", "рекомендации|рефералы|реферальный", "推荐|推荐渠道"),
    "acquire": n("acquire", "привлечение", "获客"), "onboard": n("onboard", "онбординг", "入职"),
    "activate": n("activate stage", "этап активации", "激活阶段"), "retain": n("retain", "удержание", "留存"),
    "expand": n("expand", "расширение", "扩展"), "advocate": n("advocate", "адвокация", "拥护"),
    "first_purchase": n("first purchase", "первая покупка", "首次购买"), "repeat": n("repeat buyer", "повторный покупатель", "复购客户"),
    "loyal": n("loyal", "лояльные", "忠诚"), "win_back": n("win-back", "возврат", "赢回"),
    # channels
    "organic": n("organic", "органика|органический", "自然流量|自然"),
    "outbound": n("outbound", "исходящие|аутбаунд", "外呼|外拓"),
    "paid_search": n("paid search", "платный поиск|поисковая реклама", "付费搜索"),
    "paid_social": n("paid social", "платные соцсети|реклама в соцсетях", "付费社交"),
    "partner": n("partner|partners", "партнёрский|партнёры|партнерский", "合作伙伴"),
    "email": n("email", "email|письма|почта", "邮件"),
    "in_app": n("in-app|in app", "в приложении|внутри продукта", "应用内"),
    # features
    "api_call": n("API", "API", "API"),
    "dashboard_viewed": n("dashboard", "дашборд", "仪表盘"),
    "export_csv": n("CSV export|export", "экспорт", "导出"),
    "integration_connected": n("integration|connected an integration|integrations", "интеграция|интеграцию|интеграцией|подключённой интеграцией",
                               "集成|连接集成|接入集成"),
    "report_created": n("report created|created a report|reports", "отчёт|создали отчёт", "创建报告|报告"),
    "teammate_invited": n("invited a teammate|teammate|invite a teammate", "пригласили коллегу|коллег|приглашение коллег", "邀请同事|同事"),
    # driver signals (lifecycle.stages.drivers.DEFAULT_SIGNALS)
    "activated_early": n("activated early|early activation|activate early|early activators|activating early|reached the value event",
                         "ранняя активация|рано активировались|активировавшиеся рано|рано получившие ценность|ранней активации",
                         "早期激活|提前激活|尽早激活"),
    "onboarding_complete": n("completed onboarding|completing onboarding|onboarding complete|completed every onboarding step",
                             "завершили онбординг|завершённый онбординг|прошли онбординг", "完成引导|完成入职|完成全部引导"),
    "broad_feature_use": n("broad feature use|3+ core features|3 or more core features|three or more core features",
                           "широкое использование функций|3 и более ключевых функций|3 и более ключевых функции|три и более ключевых функции",
                           "广泛使用功能|3项以上核心功能|3个及以上核心功能|三个及以上核心功能"),
    "promoter": n("promoter|promoters", "промоутер|промоутеры", "推荐者"),
    "detractor": n("detractor|detractors|being a detractor", "детрактор|детракторы|критики|статус детрактора", "贬损者"),
    "executive_sponsor": n("executive sponsor", "спонсор со стороны руководства|исполнительный спонсор", "高管发起人"),
    "has_champion": n("champion known|internal champion", "внутренний чемпион", "内部支持者"),
    "late_payment": n("late payment|late invoice|late payers|paid late|pay late|past due",
                      "просрочка оплаты|просроченная оплата|поздняя оплата|просроченный счёт|с просрочкой|просрочкой",
                      "逾期付款|逾期账单|逾期"),
    "high_priority_ticket": n("high-priority ticket|urgent ticket", "срочный тикет|приоритетный тикет", "高优先级工单"),
    "usage_halved": n("usage halved|halving of usage|usage drops by half|whose usage halved|usage halving|usage fell by half",
                      "падение использования вдвое|использование упало вдвое|падением использования|использование сократилось вдвое",
                      "使用量减半|使用量骤降"),
    # at-risk reasons
    "usage_drop": n("usage drop|falling usage", "падение использования", "使用量下降"),
    "no_recent_activity": n("no recent activity|inactive", "нет активности", "近期无活动"),
    "detractor_nps": n("detractor NPS|detractor", "детрактор", "贬损者"),
    "open_high_priority_tickets": n("open high-priority tickets", "открытые срочные тикеты", "未解决的高优先级工单"),
    "contraction": n("contraction", "сокращение", "收缩"),
    "no_champion": n("no champion|without a named champion|missing champion|without a champion",
                     "нет чемпиона|без чемпиона|без спонсора", "缺少关键联系人|没有支持者|缺少支持者"),
    # health bands and segments
    "red": n("red band|red health band|red", "красная зона|красной зоне|красную зону", "红色区间|红区|红色"),
    "yellow": n("yellow band|yellow", "жёлтая зона|жёлтой зоне|желтая зона", "黄色区间|黄区|黄色"),
    "green": n("green band|green health band|green", "зелёная зона|зелёной зоне|зеленая зона", "绿色健康区间|绿色区间|绿区|绿色"),
    "champions": n("champions", "чемпионы|чемпионов", "拥护者客户|拥护者|冠军客户"),
    "healthy": n("healthy customers|healthy", "здоровые клиенты|здоровых клиентов|здоровые", "健康客户|健康"),
    "churning": n("churning", "уходящие|в процессе оттока", "正在流失"),
}

STAT_NAMES: dict[str, Names] = {
    "rate_with": n("rate with the signal", "доля с сигналом", "有信号的比例"),
    "rate_without": n("rate without the signal", "доля без сигнала", "无信号的比例"),
    "difference": n("difference with and without", "разница с сигналом и без", "有无信号之差"),
    "lift": n("lift", "лифт", "提升倍数"),
    "difference_low": n("interval|lower end of the interval", "интервал|нижняя граница интервала", "区间|区间下限"),
    "difference_high": n("interval|upper end of the interval", "интервал|верхняя граница интервала", "区间|区间上限"),
}

FAMILY_NAMES: dict[str, Names] = {
    "population.customers": n("customers in scope|customers|customer base|total customers|accounts",
                              "клиенты|клиентская база|всего клиентов|клиентов|в базе", "客户总数|客户|客户群"),
    "population.leads": n("leads|lead pool|pipeline", "лиды|лидов|в воронке|лидов в воронке", "线索|线索总数"),
    "stage.count": n("customers in stage|accounts in stage", "клиентов на этапе", "阶段客户"),
    "stage.share": n("share of customers in stage|share of the base", "доля клиентов на этапе|доля базы", "阶段客户占比"),
    "health.mean": n("mean health score|health score|average health|health scores average", "средний индекс здоровья|индекс здоровья",
                     "平均健康分|健康分|健康评分"),
    "health.band.share": n("health band", "зона здоровья|зоне здоровья", "健康区间"),
    "health.segment.count": n("health segment|segment", "сегмент здоровья|сегмент", "健康分群|分群"),
    "risk.customers": n("at-risk customers|customers with a risk reason|risk reason|at risk|at-risk list",
                        "признак риска|признаки риска|клиентов с признаками риска|в зоне риска", "风险原因|风险客户|存在风险"),
    "risk.value_at_stake": n("MRR at stake|value at stake|at stake|at-risk MRR|MRR of at-risk accounts",
                             "под угрозой|MRR под угрозой", "风险MRR|涉及MRR|风险客户涉及"),
    "risk.listed": n("on the at-risk list|listed at risk|at-risk list", "в списке риска|списке под угрозой",
                     "风险名单|列入风险名单"),
    "health.coverage.mean": n("coverage|designed weight|share of the designed weight", "покрытие|охват данных|доля веса",
                              "覆盖率|数据覆盖|设计权重"),
    "health.coverage.low.share": n("low coverage|rests on less than half", "низкое покрытие|меньше половины веса",
                                   "低覆盖率|不足一半权重"),
    "risk.reason.count": n("at-risk customers with|risk reason|reason", "причина риска|признак", "风险原因"),
    "engagement.open_rate": n("open rate|opens|touches", "открываемость|касаний", "打开率|触达"),
    "engagement.click_rate": n("click rate|clicks", "кликабельность", "点击率"),
    "retention.forecast.month_12": n("12-month retention forecast|still paying after 12 months|still be paying after 12 months|"
                                     "12-month retention|paying after 12 months|forecast retention",
                                     "прогноз удержания на 12 месяцев|будут платить и через 12 месяцев|удержание через 12 месяцев",
                                     "12个月留存预测|12个月后仍在付费|12个月留存"),
    "clv.new_customer_paid_months": n("expected paid months|paid months", "ожидаемые оплаченные месяцы|оплаченных месяцев", "预期付费月数|付费月数"),
    "clv.subscribers.count": n("paying subscribers|subscribers|current subscribers", "платящих подписчиков|подписчики|подписчиков",
                               "付费订阅客户|订阅客户|订阅用户"),
    "clv.subscribers.residual_value": n("expected payments of current subscribers|expected to pay|residual value|next 12 months",
                                        "ожидаемые платежи|остаточная ценность|за 12 месяцев", "预期付款|剩余价值|未来12个月"),
    "clv.expected_total": n("expected CLV|expected customer lifetime value|CLV", "ожидаемый CLV|ожидаемая ценность клиентов", "预期客户终身价值|预期CLV"),
    "clv.customers": n("customers modelled", "клиентов в модели", "建模客户"),
    "clv.expected_purchases.total": n("expected purchases", "ожидаемые покупки", "预期购买次数"),
    "clv.p_alive.median": n("P(alive)|probability alive", "вероятность активности", "存活概率"),
    "clv.likely_lapsed": n("likely lapsed|lapsed customers", "вероятно ушедшие", "可能流失"),
    "clv.segment": n("RFM segment", "RFM-сегмент", "RFM分群"),
    "customer": n("this customer|the customer|health score|risk", "этот клиент|клиент|индекс здоровья|риск", "该客户|客户|健康分|风险"),
    # derived facts (lifecycle.facts.derived): funnel, bottleneck, changes, previous period, gaps to target
    "funnel.reached": n("reached|leads created in the period|customers active in the period|went on to|got to",
                        "дошли|дошедших|лидов, созданных за период|активных клиентов за период", "到达|期间新建的线索|期间活跃客户"),
    "funnel.rate": n("conversion|went on to|reached|became customers|moved on to",
                     "конверсия|перешли к|дошли до|стали клиентами", "转化率|进入了|到达|成为客户|进入"),
    "funnel.bottleneck": n("bottleneck|the bottleneck", "узкое место|узким местом", "瓶颈"),
    "stage.expected_days": n("expected days|expected|the stage's expected", "ожидаемых дней|ожидаемых|ожидаемого", "预期天数|预期"),
    "change": n("change|since the previous period|vs the previous period|previous period",
                "изменение|по сравнению с прошлым периодом|к прошлому периоду", "变化|与上期相比|较上期"),
    "previous": n("previous period|in the previous period", "прошлый период|в прошлом периоде", "上期"),
    "gap": n("gap to target|short of its target band|short of|beyond its target band|gap",
             "ниже целевого диапазона|выше целевого диапазона|отставание от цели|разрыв", "比目标区间低|超出目标区间|差距"),
}


def _parts(key: str) -> Names:
    return KEY_NAMES.get(key, Names((key.replace("_", " "),), (key.replace("_", " "),), (key.replace("_", " "),)))


@lru_cache(maxsize=4096)
def fact_names(fact_id: str) -> Names:
    """The names of fact ``fact_id`` (empty ``Names`` when the id belongs to no known family)."""
    if fact_id in METRIC_NAMES:
        return METRIC_NAMES[fact_id]
    head, _, rest = fact_id.partition(".")
    if head in METRIC_NAMES and rest:  # breakdown row <metric>.<key>
        return METRIC_NAMES[head] + _parts(rest)
    if fact_id in FAMILY_NAMES:
        return FAMILY_NAMES[fact_id]
    if m := re.fullmatch(r"stage\.(\w+?)(?:\.\w+)?\.(count|share)", fact_id):
        return _parts(m.group(1)) + FAMILY_NAMES[f"stage.{m.group(2)}"]
    if m := re.fullmatch(r"driver\.(\w+?)_to_(\w+)\.(\w+)\.(rate_with|rate_without|difference_low|difference_high|difference|lift)",
                         fact_id):
        return _parts(m.group(3)) + STAT_NAMES[m.group(4)]
    if m := re.fullmatch(r"health\.band\.(\w+)\.share", fact_id):
        return _parts(m.group(1)) + FAMILY_NAMES["health.band.share"]
    if m := re.fullmatch(r"health\.segment\.(\w+)\.count", fact_id):
        return _parts(m.group(1)) + FAMILY_NAMES["health.segment.count"]
    if m := re.fullmatch(r"risk\.reason\.(\w+)\.count", fact_id):
        return _parts(m.group(1)) + FAMILY_NAMES["risk.reason.count"]
    if m := re.fullmatch(r"engagement\.(\w+)\.(open_rate|click_rate)", fact_id):
        return _parts(m.group(1)) + FAMILY_NAMES[f"engagement.{m.group(2)}"]
    if m := re.fullmatch(r"clv\.likely_lapsed\.(count|share)", fact_id):
        return FAMILY_NAMES["clv.likely_lapsed"]
    if m := re.fullmatch(r"clv\.segment\.(\w+)\.(expected_total|customers)", fact_id):
        return _parts(m.group(1)) + FAMILY_NAMES["clv.segment"]
    if fact_id.startswith("customer."):
        return FAMILY_NAMES["customer"]
    return _derived_names(fact_id)


def _derived_names(fact_id: str) -> Names:
    """Names of the derived facts (``lifecycle.facts.derived``): the subject's names plus the family's words."""
    if m := re.fullmatch(r"(change|previous|gap)\.(.+)", fact_id):
        base = fact_names(m.group(2))
        return base + FAMILY_NAMES[m.group(1)] if base.complete() else Names()
    if m := re.fullmatch(r"funnel\.(\w+)\.reached", fact_id):
        return _parts(m.group(1)) + FAMILY_NAMES["funnel.reached"]
    if m := re.fullmatch(r"funnel\.bottleneck\.(\w+)", fact_id):
        return _parts(m.group(1)) + FAMILY_NAMES["funnel.bottleneck"] + METRIC_NAMES["stagnation_rate"]
    if m := re.fullmatch(r"funnel\.(\w+)\.rate", fact_id):
        pair = m.group(1)
        cuts = [i for i in range(len(pair)) if pair.startswith("_to_", i)]
        known = [i for i in cuts if pair[:i] in KEY_NAMES and pair[i + 4:] in KEY_NAMES] or cuts[:1]
        if known:
            return _parts(pair[:known[0]]) + _parts(pair[known[0] + 4:]) + FAMILY_NAMES["funnel.rate"]
    if m := re.fullmatch(r"stage\.(\w+)\.expected_days", fact_id):
        return _parts(m.group(1)) + FAMILY_NAMES["stage.expected_days"]
    return Names()


def family_examples() -> tuple[str, ...]:
    """One fact id of each family (for the test that every family has names in all three languages)."""
    return ("population.customers", "population.leads", "stage.adoption.count", "stage.churned.share", "stage.unclassified.customers.count",
            "driver.adoption_to_later_stage.integration_connected.rate_with", "driver.any_to_churned.usage_halved.lift",
            "health.mean", "health.band.green.share", "health.segment.champions.count", "risk.customers", "risk.value_at_stake",
            "risk.listed", "health.coverage.mean", "health.coverage.low.share",
            "risk.reason.late_payment.count", "engagement.adoption.open_rate", "engagement.adoption.click_rate",
            "retention.forecast.month_12", "clv.new_customer_paid_months", "clv.subscribers.count", "clv.subscribers.residual_value",
            "clv.expected_total", "clv.customers", "clv.expected_purchases.total", "clv.p_alive.median", "clv.likely_lapsed.count",
            "clv.segment.champions.expected_total", "customer.health", "customer.risk", "conversion_by_channel.organic",
            "stage_velocity_days.adoption", "funnel.adoption.reached", "funnel.adoption_to_growth_expansion.rate",
            "funnel.bottleneck.adoption", "stage.adoption.expected_days", "change.activation_rate", "previous.mrr", "gap.nps",
            "driver.adoption_to_later_stage.integration_connected.difference_low")
