from django.contrib.auth.decorators import login_required
from django.db import transaction
from django.http import HttpResponse, JsonResponse
from django.shortcuts import redirect
from django.views.decorators.http import require_POST
from django.views.generic import DetailView, ListView

from .models import AuditEntry, Note


class NoteListView(ListView):
    model = Note
    template_name = "notes/note_list.html"


class NoteDetailView(DetailView):
    model = Note
    template_name = "notes/note_list.html"


@login_required
def private(request):
    count = Note.objects.filter(author=request.user).count()
    return HttpResponse(f"{request.user.username} has {count} notes")


@login_required
@require_POST
def add_note(request):
    with transaction.atomic():
        note = Note.objects.create(author=request.user, text=request.POST["text"])
        AuditEntry.objects.create(action=f"add {note.pk}")
    return redirect("notes:list")


@transaction.non_atomic_requests
async def recent(request):
    texts = [note.text async for note in Note.objects.order_by("-created")[:5]]
    return JsonResponse({"recent": texts})


def boom(request):
    AuditEntry.objects.create(action="boom")
    raise RuntimeError("the notes app failed on purpose")
