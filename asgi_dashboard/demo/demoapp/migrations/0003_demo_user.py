"""The demo's user, ``demo`` / ``demo``: a staff superuser, so the admin and the WebSocket panel's
"log in as user" work from the first start.

A data migration, like the seed, so it runs exactly once per database (at first start; or at the
next start of a database made before this migration existed) and never again: a user who changed
the password or deleted the account keeps that choice.

The password is stored already hashed (``make_password("demo", salt=...)``, computed once): hashing
it here would cost about 0.3 s of PBKDF2 at the first start, while the server's event loop waits
for the migration (the blocked-loop detector reports it). The hash and its salt are as public as
the password: this is a local demo on a loopback address; never reuse it.
"""

from django.db import migrations
from django.db.backends.base.schema import BaseDatabaseSchemaEditor
from django.db.migrations.state import StateApps

USERNAME = "demo"
#: make_password("demo", salt="asgidashdemo0001") with Django 5.2's default hasher.
PASSWORD_HASH = (
    "pbkdf2_sha256$1000000$asgidashdemo0001$EUkk/c1OuXRBIpH2cTwvDPw3KYWmHIuLu7KJVY+syoU="
)


def create_demo_user(apps: StateApps, schema_editor: BaseDatabaseSchemaEditor) -> None:
    user_model = apps.get_model("auth", "User")
    user_model.objects.get_or_create(
        username=USERNAME,
        defaults={
            "password": PASSWORD_HASH,
            "is_staff": True,
            "is_superuser": True,
            "email": "demo@example.com",
        },
    )


def delete_demo_user(apps: StateApps, schema_editor: BaseDatabaseSchemaEditor) -> None:
    apps.get_model("auth", "User").objects.filter(username=USERNAME).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("demoapp", "0002_seed"),
        # The latest auth migration, not swappable_dependency's "__first__": the historical
        # User must have every column (last_login became nullable only in 0005).
        ("auth", "0012_alter_user_first_name_max_length"),
    ]

    operations = [migrations.RunPython(create_demo_user, delete_demo_user)]
