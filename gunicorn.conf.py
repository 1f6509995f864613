# gunicorn settings shared by `make run` and production (gunicorn reads this file from the
# working directory). Access logs go through a logger that redacts questionnaire-link tokens.
logger_class = "interpersonal.web.logging.RedactingGunicornLogger"

# No control socket. gunicorn 25.1+ opens one for `gunicornc` (change the worker count, reload,
# shut down) at one path per user — $XDG_RUNTIME_DIR/gunicorn.ctl or ~/.gunicorn/gunicorn.ctl —
# so two services run by one user on one host share it: the second start takes the socket over,
# and `gunicornc` then drives the wrong service (issue 12). Nothing here uses it; stop, reload and
# resize through the service manager's signals (TERM, HUP, TTIN/TTOU) to the master's pid.
control_socket_disable = True
