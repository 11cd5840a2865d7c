from django.urls import include, path
from rest_framework.routers import DefaultRouter

from . import views

router = DefaultRouter()
router.register("items", views.ItemViewSet)

urlpatterns = [
    path("ping/", views.ping, name="ping"),
    path("categories/", views.categories, name="categories"),
    path("", include(router.urls)),
]
