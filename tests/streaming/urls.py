from django.urls import include, path

urlpatterns = [path("audio/", include("django_audio.streaming.urls"))]
