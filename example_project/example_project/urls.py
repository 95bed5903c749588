"""URLs of the example project."""

from django.conf import settings
from django.conf.urls.static import static
from django.contrib import admin
from django.urls import include, path
from django.views.generic import RedirectView

urlpatterns = [
    path("", RedirectView.as_view(url="/demo/", permanent=False)),
    path("demo/", include("demo.urls")),
    path("audio/", include("django_audio.streaming.urls")),  # POST audio/ws-token/
    path("admin/", admin.site.urls),
    path("api/audio/", include("django_audio.api.rest.urls")),
    path("v1/", include("django_audio.api.openai.urls")),
    *static(settings.MEDIA_URL, document_root=settings.MEDIA_ROOT),
]
