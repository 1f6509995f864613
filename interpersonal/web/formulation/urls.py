from django.urls import path

from . import views

app_name = "formulation"

urlpatterns = [
    path("courses/<int:pk>/ipaf/", views.ipaf, name="ipaf"),
    path("courses/<int:pk>/inventory/", views.inventory, name="inventory"),
    path("courses/<int:pk>/inventory/<int:person_pk>/", views.person, name="person"),
    path("courses/<int:pk>/inventory/<int:person_pk>/remove/", views.person_remove, name="person_remove"),
    path("courses/<int:pk>/timeline/", views.timeline, name="timeline"),
    path("courses/<int:pk>/timeline/<int:event_pk>/", views.event, name="event"),
    path("courses/<int:pk>/timeline/<int:event_pk>/remove/", views.event_remove, name="event_remove"),
    path("courses/<int:pk>/formulation/", views.ipt, name="ipt"),
]
