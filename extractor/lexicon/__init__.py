"""The reports' vocabulary, below every stage: label and heading data (data/), value parsing, text
normalisation, agency keys. Knows nothing of files, documents or reports."""
