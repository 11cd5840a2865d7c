from django.urls import path

from . import views

app_name = "notes"
urlpatterns = [
    path("", views.NoteListView.as_view(), name="list"),
    path("add/", views.add_note, name="add"),
    path("private/", views.private, name="private"),
    path("recent/", views.recent, name="recent"),
    path("<int:pk>/", views.NoteDetailView.as_view(), name="detail"),
    path("boom/", views.boom, name="boom"),
]
