from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

FEATURED = [
    {"name": "Espresso cup", "price": "12.50"},
    {"name": "Pour-over kettle", "price": "48.00"},
    {"name": "Grinder", "price": "129.00"},
]


def home(request: HttpRequest) -> HttpResponse:
    """The shop's front page (static products: the benchmark runs no migrations)."""
    return render(request, "catalog/home.html", {"featured": FEATURED})


def health(request: HttpRequest) -> HttpResponse:
    return HttpResponse("ok\n", content_type="text/plain")
