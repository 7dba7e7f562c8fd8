"""The report's words in English, Russian and Chinese: headings, tile names, chart titles, stage names, risk reasons,
signal names, and the sentence templates of the findings.

Templates take already-formatted numbers and ``[F:id]`` citations; they hold no digits of their own, so every number
in a finding comes from a fact (the verifier's rule). Unknown keys fall back to English, then to the key itself.
"""

from __future__ import annotations

from lifecycle.facts.names import KEY_NAMES

TEXT: dict[str, dict[str, str]] = {
    "en": {
        "report": "Customer lifecycle report", "as_of": "data as of", "period": "period", "population": "population",
        "contents": "Contents", "overview": "Overview", "findings": "Findings", "flow": "Flow and drivers",
        "stages": "Lifecycle stages", "appendix": "Fact appendix", "strategy": "Strategy", "verifier": "Verifier report",
        "cross_stage": "At risk and health", "revenue": "Revenue", "stage": "Stage",
        "offline_note": "Offline report: every number was computed by the engine from your data; the findings are generated "
                        "from those facts (each cites its fact id). Strategy text needs a model: run lifecycle plan with "
                        "OPENAI_API_KEY set.",
        "target": "target", "status": "status", "change": "vs previous period", "no_target": "no target band",
        "no_change": "no comparable previous period", "n": "n", "value": "value", "fact": "fact", "metric": "metric",
        "definition": "definition / note", "below": "below target", "within": "within target", "above": "above target",
        "leads": "leads", "customers": "customers", "bottleneck": "bottleneck", "reached": "reached", "conversion": "conversion",
        "questions": "Questions this section answers", "awaiting": "Strategy: awaiting a model.",
        "chart.funnel": "Stage funnel: reached each stage in the period, and conversion",
        "chart.flow": "Stage flow: where customers were, and are now",
        "chart.mrr": "MRR bridge by month", "chart.cohorts": "Cohort retention by signup month (logo, % still paying)",
        "chart.health": "Health bands by segment", "chart.drivers": "Progression drivers: difference in transition rate",
        "chart.clv": "P(alive) of customers with orders", "chart.clv_value": "Expected CLV per customer",
        "axis.months_since": "months since signup", "axis.from": "state at the period start", "axis.to": "state on as_of",
        "axis.points": "rate with − rate without the signal, pts (line: interval)",
        "axis.customers": "customers", "axis.p_alive": "P(alive)", "axis.clv": "expected CLV",
        "caveat": "Association, not causation: customers with a signal may differ in other ways.",
        "mrr.new": "new", "mrr.expansion": "expansion", "mrr.reactivation": "reactivation", "mrr.contraction": "contraction",
        "mrr.churn": "churn", "mrr.net": "net new MRR", "band.red": "red", "band.yellow": "yellow", "band.green": "green",
        "state.new": "new", "state.churned": "churned", "state.unclassified": "unclassified",
        # findings
        "f.bottleneck": "{stage} is the bottleneck: {value} {cite} of its customers have stayed longer than the stage's expected {days} {days_cite}.",
        "f.bottleneck_conv": "{stage} is the bottleneck: only {value} {cite} of the customers who reached it went on to {next}.",
        "f.bottleneck_next": "Of the customers who reached {stage}, {value} {cite} went on to {next}.",
        "f.leads": "Of {leads} leads {leads_cite} created in the period, {qualified} {qualified_cite} reached {evaluation}, and {won} {won_cite} of those became customers.",
        "f.gap": "{metric} is {value} {cite}, {gap} {gap_cite} short of its target band {band} {cite}.",
        "f.gap_above": "{metric} is {value} {cite}, {gap} {gap_cite} beyond its target band {band} {cite}.",
        "f.within": "Within or above target: {items}.",
        "f.change": "Since the previous period: {items}.",
        "f.driver": "{stage_from}: customers with “{signal}” moved on at {with_} {with_cite} against {without} {without_cite} without it ({diff} {diff_cite}, interval {low} to {high} {interval_cite}) — an association, not a cause.",
        "f.driver_churn": "Customers with “{signal}” churned at {with_} {with_cite} against {without} {without_cite} without it ({diff} {diff_cite}) — an association, not a cause.",
        "f.risk": "Active customers with a risk reason: {count} {count_cite}, holding {mrr} {mrr_cite} of MRR; the most frequent reasons are {reasons}.",
        "f.themes": "Recurring themes in customers' own words: {items}.",
        "f.stage_count": "Customers in this stage now: {count} {cite} ({share} {share_cite} of customers).",
        "f.stage_leads": "Open leads in {stage} now: {count} {cite}.",
        "f.stagnation": "Of them, {value} {cite} have been in the stage longer than its expected days.",
    },
    "ru": {
        "report": "Отчёт о жизненном цикле клиентов", "as_of": "данные на", "period": "период", "population": "выборка",
        "contents": "Содержание", "overview": "Обзор", "findings": "Выводы", "flow": "Движение и драйверы",
        "stages": "Этапы жизненного цикла", "appendix": "Приложение: все факты", "strategy": "Стратегия",
        "verifier": "Отчёт проверки", "cross_stage": "Риски и здоровье", "revenue": "Выручка", "stage": "Этап",
        "offline_note": "Офлайн-отчёт: все числа вычислены движком по вашим данным; выводы построены из этих фактов "
                        "(у каждого — ссылка на факт). Для текста стратегии нужна модель: запустите lifecycle plan с OPENAI_API_KEY.",
        "target": "цель", "status": "статус", "change": "к прошлому периоду", "no_target": "цели нет",
        "no_change": "нет сопоставимого прошлого периода", "n": "n", "value": "значение", "fact": "факт", "metric": "метрика",
        "definition": "определение / примечание", "below": "ниже цели", "within": "в пределах цели", "above": "выше цели",
        "leads": "лиды", "customers": "клиенты", "bottleneck": "узкое место", "reached": "дошли", "conversion": "конверсия",
        "questions": "На какие вопросы отвечает раздел", "awaiting": "Стратегия: ожидает модель.",
        "chart.funnel": "Воронка этапов: дошли до этапа за период и конверсия",
        "chart.flow": "Движение между этапами: где клиенты были и где они сейчас",
        "chart.mrr": "Мост MRR по месяцам", "chart.cohorts": "Удержание когорт по месяцу регистрации (клиенты, % платящих)",
        "chart.health": "Зоны здоровья по сегментам", "chart.drivers": "Драйверы перехода: разница в доле перешедших",
        "chart.clv": "P(alive) клиентов с заказами", "chart.clv_value": "Ожидаемая CLV клиента",
        "axis.months_since": "месяцев после регистрации", "axis.from": "состояние в начале периода", "axis.to": "состояние на дату",
        "axis.points": "доля с сигналом − без него, пункты (линия: интервал)",
        "axis.customers": "клиенты", "axis.p_alive": "P(alive)", "axis.clv": "ожидаемая CLV",
        "caveat": "Связь, а не причина: клиенты с сигналом могут отличаться и в другом.",
        "mrr.new": "новый", "mrr.expansion": "расширение", "mrr.reactivation": "возврат", "mrr.contraction": "сокращение",
        "mrr.churn": "отток", "mrr.net": "чистый прирост MRR", "band.red": "красная", "band.yellow": "жёлтая", "band.green": "зелёная",
        "state.new": "новые", "state.churned": "ушли", "state.unclassified": "без этапа",
        "f.bottleneck": "Узкое место — этап «{stage}»: {value} {cite} его клиентов находятся на нём дольше ожидаемых {days} {days_cite}.",
        "f.bottleneck_conv": "Узкое место — этап «{stage}»: лишь {value} {cite} дошедших до него клиентов перешли к этапу «{next}».",
        "f.bottleneck_next": "Из клиентов, дошедших до этапа «{stage}», {value} {cite} перешли к этапу «{next}».",
        "f.leads": "Из {leads} лидов {leads_cite}, созданных за период, {qualified} {qualified_cite} дошли до этапа «{evaluation}», и {won} {won_cite} из них стали клиентами.",
        "f.gap": "{metric}: {value} {cite}, на {gap} {gap_cite} ниже целевого диапазона {band} {cite}.",
        "f.gap_above": "{metric}: {value} {cite}, на {gap} {gap_cite} выше целевого диапазона {band} {cite}.",
        "f.within": "В пределах цели или выше: {items}.",
        "f.change": "По сравнению с прошлым периодом: {items}.",
        "f.driver": "{stage_from}: клиенты с сигналом «{signal}» переходили дальше в {with_} {with_cite} случаев против {without} {without_cite} без него ({diff} {diff_cite}, интервал от {low} до {high} {interval_cite}) — это связь, а не причина.",
        "f.driver_churn": "Клиенты с сигналом «{signal}» уходили в {with_} {with_cite} случаев против {without} {without_cite} без него ({diff} {diff_cite}) — это связь, а не причина.",
        "f.risk": "Активных клиентов с причиной риска: {count} {count_cite}, их MRR — {mrr} {mrr_cite}; самые частые причины: {reasons}.",
        "f.themes": "Повторяющиеся темы в словах клиентов: {items}.",
        "f.stage_count": "Клиентов на этом этапе сейчас: {count} {cite} ({share} {share_cite} всех клиентов).",
        "f.stage_leads": "Открытых лидов на этапе «{stage}» сейчас: {count} {cite}.",
        "f.stagnation": "Из них {value} {cite} застряли на этапе дольше ожидаемого срока.",
    },
    "zh": {
        "report": "客户生命周期报告", "as_of": "数据截至", "period": "期间", "population": "范围",
        "contents": "目录", "overview": "概览", "findings": "发现", "flow": "流转与驱动因素", "stages": "生命周期阶段",
        "appendix": "附录：全部事实", "strategy": "策略", "verifier": "核验报告", "cross_stage": "风险与健康度",
        "revenue": "收入", "stage": "阶段",
        "offline_note": "离线报告：所有数字均由引擎根据您的数据计算；发现由这些事实生成（每条都引用事实编号）。"
                        "策略文本需要模型：设置 OPENAI_API_KEY 后运行 lifecycle plan。",
        "target": "目标", "status": "状态", "change": "较上期", "no_target": "无目标区间", "no_change": "无可比的上期",
        "n": "n", "value": "数值", "fact": "事实", "metric": "指标", "definition": "定义 / 备注",
        "below": "低于目标", "within": "达到目标", "above": "高于目标", "leads": "线索", "customers": "客户",
        "bottleneck": "瓶颈", "reached": "到达", "conversion": "转化率", "questions": "本节回答的问题",
        "awaiting": "策略：等待模型生成。",
        "chart.funnel": "阶段漏斗：期间内到达各阶段的人数与转化率", "chart.flow": "阶段流转：期初所处阶段与当前阶段",
        "chart.mrr": "按月 MRR 桥", "chart.cohorts": "按注册月份的同期群留存（客户，仍付费的 %）",
        "chart.health": "各细分的健康度分区", "chart.drivers": "推进驱动因素：转化率差异",
        "chart.clv": "有订单客户的 P(alive)", "chart.clv_value": "每位客户的预期 CLV",
        "axis.months_since": "注册后月数", "axis.from": "期初状态", "axis.to": "当前状态",
        "axis.points": "有信号 − 无信号的比例，百分点（线：区间）", "axis.customers": "客户",
        "axis.p_alive": "P(alive)", "axis.clv": "预期 CLV", "caveat": "相关而非因果：有该信号的客户可能在其他方面也不同。",
        "mrr.new": "新增", "mrr.expansion": "扩展", "mrr.reactivation": "回流", "mrr.contraction": "缩减", "mrr.churn": "流失",
        "mrr.net": "净新增 MRR", "band.red": "红", "band.yellow": "黄", "band.green": "绿",
        "state.new": "新客户", "state.churned": "已流失", "state.unclassified": "未分类",
        "f.bottleneck": "瓶颈在“{stage}”阶段：{value} {cite} 的客户停留时间超过该阶段预期的 {days} {days_cite}。",
        "f.bottleneck_conv": "瓶颈在“{stage}”阶段：到达该阶段的客户中只有 {value} {cite} 进入“{next}”。",
        "f.bottleneck_next": "到达“{stage}”的客户中，{value} {cite} 进入了“{next}”。",
        "f.leads": "期间新建的 {leads} 条线索 {leads_cite} 中，{qualified} {qualified_cite} 到达“{evaluation}”，其中 {won} {won_cite} 成为客户。",
        "f.gap": "{metric} 为 {value} {cite}，比目标区间 {band} {cite} 低 {gap} {gap_cite}。",
        "f.gap_above": "{metric} 为 {value} {cite}，超出目标区间 {band} {cite} {gap} {gap_cite}。",
        "f.within": "达到或高于目标：{items}。",
        "f.change": "与上期相比：{items}。",
        "f.driver": "{stage_from}：有“{signal}”信号的客户推进比例为 {with_} {with_cite}，没有的为 {without} {without_cite}（{diff} {diff_cite}，区间 {low} 至 {high} {interval_cite}），这是相关而非因果。",
        "f.driver_churn": "有“{signal}”信号的客户流失比例为 {with_} {with_cite}，没有的为 {without} {without_cite}（{diff} {diff_cite}），这是相关而非因果。",
        "f.risk": "存在风险原因的活跃客户有 {count} 位 {count_cite}，涉及 MRR {mrr} {mrr_cite}，最常见的原因是 {reasons}。",
        "f.themes": "客户原话中反复出现的主题：{items}。",
        "f.stage_count": "目前有 {count} 位客户 {cite} 处于该阶段（占客户的 {share} {share_cite}）。",
        "f.stage_leads": "目前处于“{stage}”阶段的未结线索有 {count} 条 {cite}。",
        "f.stagnation": "其中 {value} {cite} 停留时间超过预期。",
    },
}

STAGES = {
    "ru": {"awareness": "Осведомлённость", "evaluation": "Оценка и выбор", "purchase_onboarding": "Покупка и онбординг",
           "adoption": "Освоение и ценность", "growth_expansion": "Рост и расширение", "loyalty_advocacy": "Лояльность и адвокация"},
    "zh": {"awareness": "认知与发现", "evaluation": "评估与考虑", "purchase_onboarding": "购买与引导", "adoption": "采用与价值实现",
           "growth_expansion": "增长与扩展", "loyalty_advocacy": "忠诚与推荐"},
}

METRICS = {
    "ru": {"mrr": "MRR", "nrr": "Чистое удержание выручки (NRR)", "grr": "Валовое удержание выручки (GRR)",
           "logo_churn_rate": "Отток клиентов в месяц", "activation_rate": "Доля активации", "time_to_value_days": "Время до ценности",
           "nps": "NPS", "referral_rate": "Доля рекомендаций", "lead_to_customer_rate": "Лид → клиент",
           "repeat_purchase_rate": "Доля повторных покупок", "average_order_value": "Средний чек", "risk.value_at_stake": "MRR под риском",
           "clv.expected_total": "Ожидаемая CLV"},
    "zh": {"mrr": "MRR", "nrr": "净收入留存率 (NRR)", "grr": "总收入留存率 (GRR)", "logo_churn_rate": "月客户流失率",
           "activation_rate": "激活率", "time_to_value_days": "价值实现时长", "nps": "NPS", "referral_rate": "推荐率",
           "lead_to_customer_rate": "线索 → 客户", "repeat_purchase_rate": "复购率", "average_order_value": "平均订单金额",
           "risk.value_at_stake": "风险 MRR", "clv.expected_total": "预期 CLV"},
    "en": {"mrr": "MRR", "nrr": "Net revenue retention", "grr": "Gross revenue retention", "logo_churn_rate": "Logo churn (monthly)",
           "activation_rate": "Activation rate", "time_to_value_days": "Time to value", "nps": "NPS", "referral_rate": "Referral rate",
           "lead_to_customer_rate": "Lead → customer", "repeat_purchase_rate": "Repeat purchase rate",
           "average_order_value": "Average order value", "risk.value_at_stake": "MRR at risk", "clv.expected_total": "Expected CLV"},
}

REASONS = {
    "en": {"no_champion": "no champion", "late_payment": "late payment", "detractor_nps": "detractor NPS", "usage_drop": "usage drop",
           "contraction": "contraction", "no_recent_activity": "no recent activity", "high_priority_ticket": "urgent ticket open",
           "dormant": "dormant"},
    "ru": {"no_champion": "нет чемпиона", "late_payment": "просрочка оплаты", "detractor_nps": "критик по NPS",
           "usage_drop": "падение использования", "contraction": "сокращение", "no_recent_activity": "нет недавней активности",
           "high_priority_ticket": "срочный тикет", "dormant": "спящий"},
    "zh": {"no_champion": "缺少内部支持者", "late_payment": "逾期付款", "detractor_nps": "NPS 贬损者", "usage_drop": "使用量下降",
           "contraction": "缩减", "no_recent_activity": "近期无活动", "high_priority_ticket": "有紧急工单", "dormant": "休眠"},
}

SIGNALS = {
    "en": {"activated_early": "reached first value early", "onboarding_complete": "onboarding completed",
           "integration_connected": "integration connected", "teammate_invited": "teammate invited",
           "broad_feature_use": "broad feature use", "promoter": "NPS promoter", "detractor": "NPS detractor",
           "executive_sponsor": "executive sponsor", "has_champion": "internal champion", "late_payment": "late payment",
           "high_priority_ticket": "urgent ticket open", "usage_halved": "usage halved"},
    "ru": {"activated_early": "ранняя первая ценность", "onboarding_complete": "онбординг пройден",
           "integration_connected": "подключена интеграция", "teammate_invited": "приглашён коллега",
           "broad_feature_use": "широкое использование функций", "promoter": "промоутер NPS", "detractor": "критик NPS",
           "executive_sponsor": "есть спонсор-руководитель", "has_champion": "есть внутренний чемпион", "late_payment": "просрочка оплаты",
           "high_priority_ticket": "открыт срочный тикет", "usage_halved": "использование упало вдвое"},
    "zh": {"activated_early": "较早实现首次价值", "onboarding_complete": "完成引导", "integration_connected": "已连接集成",
           "teammate_invited": "已邀请同事", "broad_feature_use": "广泛使用功能", "promoter": "NPS 推荐者", "detractor": "NPS 贬损者",
           "executive_sponsor": "有高管支持者", "has_champion": "有内部支持者", "late_payment": "逾期付款",
           "high_priority_ticket": "有紧急工单", "usage_halved": "使用量减半"},
}


def text(language: str, key: str) -> str:
    """The catalogue entry ``key`` in ``language`` (English, then the key, when missing)."""
    return TEXT.get(language, {}).get(key) or TEXT["en"].get(key, key)


def stage_name(language: str, stage_id: str, fallback: str) -> str:
    """A stage's name in ``language`` (the model's own name for stages the catalogue does not know)."""
    return STAGES.get(language, {}).get(stage_id, fallback)


def metric_name(language: str, metric_id: str, fallback: str) -> str:
    return METRICS.get(language, {}).get(metric_id) or METRICS["en"].get(metric_id) or fallback


def reason_name(language: str, code: str) -> str:
    return REASONS.get(language, {}).get(code) or REASONS["en"].get(code, code.replace("_", " "))


def signal_name(language: str, signal: str) -> str:
    """A driver signal's name: the verifier's canonical name (``lifecycle.facts.names``, so a finding names the
    subject its citation is about), else the catalogue's, else the id in words."""
    names = KEY_NAMES.get(signal)
    if names is not None and names.of(language):
        return names.of(language)[0]
    return SIGNALS.get(language, {}).get(signal) or SIGNALS["en"].get(signal, signal.replace("_", " "))
