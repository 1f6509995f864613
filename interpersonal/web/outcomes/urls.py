from django.urls import path

from interpersonal.web.outcomes import views

app_name = "outcomes"
urlpatterns = [
    path("outcomes/", views.dashboard, name="dashboard"),
    path("outcomes/<str:table>.csv", views.csv_download, name="csv"),
]
