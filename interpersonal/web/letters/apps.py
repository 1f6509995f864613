from django.apps import AppConfig


class LettersConfig(AppConfig):
    name = "interpersonal.web.letters"
    label = "letters"
