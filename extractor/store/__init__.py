"""Storage: the database schema and access, batch ingest (which calls the parser and the cross-report
checks), and reviewers' decisions."""
