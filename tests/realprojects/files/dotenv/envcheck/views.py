from pathlib import Path

from django.conf import settings
from django.contrib.auth.models import User
from django.http import JsonResponse


def environment(request):
    return JsonResponse(
        {
            "greeting": settings.GREETING,
            "database": Path(settings.DATABASES["default"]["NAME"]).name,
            "users": User.objects.count(),
        }
    )
