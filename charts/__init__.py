"""Charts of engine results: one plotting approach (matplotlib) for the HTML report (SVG) and the MCP tools (PNG).

``charts.figure`` holds the style and the deterministic SVG/PNG rendering; ``charts.locale`` the number formats
(en/ru/zh); ``charts.lifecycle`` the lifecycle charts (stage funnel, stage flow, MRR bridge, cohort retention,
health by segment, driver lift, CLV / P(alive) distribution, customers per stage, health components). Every chart
function takes engine results and already-localised text and returns a ``matplotlib`` figure; nothing here computes.
"""
