from django.urls import path

from polls import views

urlpatterns = [
    path("", views.index, name="index"),
    path("vote/<int:choice_id>/", views.vote, name="vote"),
    path("health/", views.health, name="health"),
]
