"""Conformance of other people's implementations: golden cases, the ratio-rule judge, diagnoses, audit.

Modules: :mod:`.goldcases` (the exact inputs), :mod:`.independent` (a second, definition-level
high-precision evaluation), :mod:`.golden` (the versioned golden file: load and regenerate),
:mod:`.baseline` (the straightforward same-dtype implementation), :mod:`.dtypes` (float16/bfloat16
through torch or ml_dtypes), :mod:`.target` (loading and calling a candidate), :mod:`.runner`
(errors against the gold), :mod:`.judge` (the ratio rule), :mod:`.diagnose` (what the numbers say
is wrong), :mod:`.audit` (the sweep over logit scale, n and dtype).
"""
