"""interpersonal: deliver, measure and evaluate DIT and IPT with fidelity."""

__version__ = "0.1.0"
