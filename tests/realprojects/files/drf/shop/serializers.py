from rest_framework import serializers

from .models import Item


class ItemSerializer(serializers.ModelSerializer):
    category_name = serializers.CharField(source="category.name", read_only=True, default=None)

    class Meta:
        model = Item
        fields = ["id", "name", "price", "category", "category_name"]
