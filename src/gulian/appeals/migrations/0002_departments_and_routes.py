"""Default departments and routing table (administrators change them on the 路由表 page)."""

from django.db import migrations

from gulian.appeals.reference import load_defaults


def load(apps, schema_editor):
    load_defaults(apps.get_model("appeals", "Department"), apps.get_model("appeals", "RoutingRule"))


class Migration(migrations.Migration):
    dependencies = [("appeals", "0001_initial")]
    operations = [migrations.RunPython(load, migrations.RunPython.noop)]
