from django.apps import AppConfig


class QuestionnairesConfig(AppConfig):
    name = "interpersonal.web.questionnaires"
    label = "questionnaires"
    verbose_name = "Questionnaires by secure link"
