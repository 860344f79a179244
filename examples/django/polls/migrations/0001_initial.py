from django.db import migrations, models


def seed(apps, schema_editor):
    Choice = apps.get_model("polls", "Choice")
    for text in ("Tabs", "Spaces"):
        Choice.objects.get_or_create(text=text)


class Migration(migrations.Migration):
    initial = True
    dependencies = []

    operations = [
        migrations.CreateModel(
            name="Choice",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False)),
                ("text", models.CharField(max_length=200, unique=True)),
                ("votes", models.PositiveIntegerField(default=0)),
            ],
        ),
        migrations.RunPython(seed, migrations.RunPython.noop),
    ]
