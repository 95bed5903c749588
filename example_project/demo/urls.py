"""URLs of the demo pages."""

from django.urls import path

from . import views

app_name = "demo"

urlpatterns = [
    path("", views.index, name="index"),
    path("captions/", views.captions_speaker, name="captions"),
    path("captions/<str:session_id>/", views.captions_viewer, name="captions-viewer"),
    path("speech/", views.speech_playground, name="speech"),
]
