"""Cross-validation: one registry of checks (:mod:`.registry`), the tolerance table
(:mod:`.tolerances`), the checks themselves (:mod:`.checks`, an explicit import list) and reports."""
