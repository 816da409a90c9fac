"""Admin overrides of the scoring models' defaults (knowledge degree, mirror): stored and read here,
below every feature that has a tunable model, so a model reads its overrides without importing the
workbench that edits them."""
