"""The framework-free domain core.

Nothing under this package imports Django (a ruff ``banned-api`` rule in
``interpersonal/core/ruff.toml`` enforces it). Instruments and scoring live in
:mod:`interpersonal.core.measures`; change statistics in :mod:`interpersonal.core.change`.
"""
