from django.urls import path

from orders import views

app_name = "orders"
urlpatterns = [path("<int:order_id>/", views.detail, name="detail")]
