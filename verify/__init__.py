"""Cross-validation registry, tolerances and reports."""
