"""Load the current GB/T 2260 regions and the GB/T 4754-2017 sections and divisions."""

from django.db import migrations


def load(apps, schema_editor):
    from gulian.core.reference import load_industries, load_regions

    load_regions(apps.get_model("core", "Region"))
    load_industries(apps.get_model("core", "Industry"))


class Migration(migrations.Migration):
    dependencies = [("core", "0002_initial")]
    operations = [migrations.RunPython(load, migrations.RunPython.noop)]
