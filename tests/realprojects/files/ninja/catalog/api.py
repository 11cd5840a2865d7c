from django.shortcuts import aget_object_or_404, get_object_or_404
from ninja import NinjaAPI, Schema

from .models import Product

api = NinjaAPI(title="Catalog")


class ProductIn(Schema):
    name: str
    stock: int = 0


class ProductOut(Schema):
    id: int
    name: str
    stock: int


@api.get("/health")
def health(request):
    return {"ok": True}


@api.get("/products", response=list[ProductOut])
def list_products(request):
    return list(Product.objects.all())


@api.post("/products", response={201: ProductOut})
async def create_product(request, payload: ProductIn):
    product = await Product.objects.acreate(**payload.dict())
    return 201, product


@api.get("/products/{product_id}", response=ProductOut)
async def get_product(request, product_id: int):
    return await aget_object_or_404(Product, id=product_id)


@api.put("/products/{product_id}", response=ProductOut)
async def update_product(request, product_id: int, payload: ProductIn):
    product = await aget_object_or_404(Product, id=product_id)
    product.name, product.stock = payload.name, payload.stock
    await product.asave()
    return product


@api.get("/stock/{product_id}")
def stock(request, product_id: int):
    return {"stock": get_object_or_404(Product, id=product_id).stock}


@api.delete("/stock/{product_id}")
def clear_stock(request, product_id: int):
    Product.objects.filter(id=product_id).update(stock=0)
    return {"cleared": product_id}
