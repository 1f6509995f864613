"""Assessments: the catalogue of instruments, and scoring an answer set."""
