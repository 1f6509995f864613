"""Fidelity: rating scales as data, inter-rater reliability, rater drift, accreditation rules as data."""
