from django.db import migrations


class Migration(migrations.Migration):
    """The audit trail belongs to accounts (it is kept per organisation), so the ground floor
    names no app. Only Django's idea of the model moves; accounts 0004 takes over the table."""

    dependencies = [("core", "0001_initial"), ("accounts", "0004_auditentry_from_core")]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[migrations.DeleteModel(name="AuditEntry")]
        )
    ]
