"""Claim-level grounding of plan text: sentences, numbers, subjects, claims and their verdicts against a fact bundle.

``sentences`` splits a draft (abbreviation-aware, en/ru/zh), ``numbers`` finds every number as written (digits,
number words, fractions, multipliers, ranges, scale words, units, signs carried by words), ``subjects`` finds the
metrics a sentence names (``lifecycle.facts.names``), ``claims`` turns one sentence into claims (subject, value, unit,
precision, kind, citations), ``verdicts`` judges each claim against the bundle, and ``exemptions`` computes the
numbers a template's fixed text uses. ``prompts.verify`` is the one entry point both front ends call.
"""
