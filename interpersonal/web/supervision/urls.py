from django.urls import path

from interpersonal.web.supervision import views

app_name = "supervision"

urlpatterns = [
    path("", views.dashboard_view, name="dashboard"),
    path("log/", views.log_list, name="log"),
    path("log/new/", views.log_new, name="log_new"),
    path("history/<int:pk>/", views.history, name="history"),
    path("staff/<int:pk>/add/", views.relationship_add, name="relationship_add"),
    path("relationships/<int:pk>/end/", views.relationship_end, name="relationship_end"),
    path("costs/", views.costs, name="costs"),
]
