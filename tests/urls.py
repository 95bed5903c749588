from django.contrib import admin
from django.urls import include, path

urlpatterns = [
    path("admin/", admin.site.urls),
    path("api/audio/", include("django_audio.api.rest.urls")),
    path("v1/", include("django_audio.api.openai.urls")),
]
