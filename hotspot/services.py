"""Hotspot workflows. Customers are created here so every new one is announced live."""
from django.db import transaction

from config import live

from .models import Customer, ServiceType
from .phone import normalise_phone


@transaction.atomic
def create_customer(phone: str, name: str = "", service_type: str = ServiceType.HOTSPOT) -> Customer:
    customer = Customer.objects.create(phone=normalise_phone(phone), name=name, service_type=service_type)
    live.publish(live.ADMIN, "customer.created", {"id": customer.pk})
    return customer
