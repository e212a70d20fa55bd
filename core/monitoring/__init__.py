"""The monitoring engine's pure core: configuration, classification, typology scoring and
adjudication. No I/O: workflows run the scoring and adjudication inline."""
