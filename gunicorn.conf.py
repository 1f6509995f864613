# gunicorn settings shared by `make run` and production (gunicorn reads this file from the
# working directory). Access logs go through a logger that redacts questionnaire-link tokens.
logger_class = "interpersonal.web.logging.RedactingGunicornLogger"
