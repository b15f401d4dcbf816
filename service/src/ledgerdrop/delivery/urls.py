from django.urls import path

from ledgerdrop.delivery import views

urlpatterns = [
    path("devices/pair/", views.pair, name="device-pair"),
]
