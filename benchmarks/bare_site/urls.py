from django.urls import path

from bare_site.views import row_create

urlpatterns = [path("rows", row_create)]
