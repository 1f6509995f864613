"""The Django project: settings, URLs and one app per bounded context.

Depends on :mod:`interpersonal.core`; the core never imports from here.
"""
