from django.apps import AppConfig


class CoursesConfig(AppConfig):
    name = "interpersonal.web.courses"
    label = "courses"
