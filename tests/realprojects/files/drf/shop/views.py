from rest_framework import viewsets
from rest_framework.decorators import api_view
from rest_framework.response import Response

from .models import Category, Item
from .serializers import ItemSerializer


@api_view(["GET"])
def ping(request):
    return Response({"pong": True, "items": Item.objects.count()})


@api_view(["GET", "POST"])
def categories(request):
    if request.method == "POST":
        category = Category.objects.create(name=request.data["name"])
        return Response({"id": category.pk}, status=201)
    return Response([c.name for c in Category.objects.all()])


class ItemViewSet(viewsets.ModelViewSet):
    queryset = Item.objects.all()
    serializer_class = ItemSerializer
