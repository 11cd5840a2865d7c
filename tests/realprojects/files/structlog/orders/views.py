import structlog
from django.contrib.auth.models import User
from django.http import JsonResponse

log = structlog.get_logger("orders")


def place_order(request):
    customers = User.objects.count()
    log.info("order placed", order_id=42, total="9.99", customers=customers)
    return JsonResponse({"order": 42})


def pay(request):
    try:
        1 / 0  # noqa: B018
    except ZeroDivisionError:
        log.exception("payment failed", order_id=42)
    return JsonResponse({"paid": False}, status=502)
