from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404

from orders.models import Order


def detail(request: HttpRequest, order_id: int) -> HttpResponse:
    order = get_object_or_404(Order, pk=order_id)
    return HttpResponse(f"Order {order.pk}: {order.total():.2f}\n", content_type="text/plain")
