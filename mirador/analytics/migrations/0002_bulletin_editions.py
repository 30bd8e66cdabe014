"""The archive of the monthly bulletins: one row per edition and language, with its PDF."""

import django.db.models.deletion
import uuid
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('analytics', '0001_population_dataset'),
        ('flows', '0006_observation_foreign_keys_unchecked'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name='BulletinEdition',
            fields=[
                ('id', models.UUIDField(default=uuid.uuid4, editable=False, primary_key=True, serialize=False)),
                ('created_at', models.DateTimeField(auto_now_add=True)),
                ('modified_at', models.DateTimeField(auto_now=True)),
                ('month', models.DateField(verbose_name='month (first day)')),
                ('language', models.CharField(choices=[('es', 'Español'), ('en', 'English')], max_length=5, verbose_name='language')),
                ('status', models.CharField(choices=[('queued', 'Queued'), ('running', 'Being generated'), ('published', 'Published'), ('failed', 'Failed')], default='queued', max_length=20, verbose_name='status')),
                ('trigger', models.CharField(choices=[('on_demand', 'On demand'), ('schedule', 'On schedule')], default='on_demand', max_length=20, verbose_name='asked for')),
                ('number', models.PositiveIntegerField(blank=True, null=True, verbose_name='edition')),
                ('message', models.TextField(blank=True, verbose_name='message')),
                ('started_at', models.DateTimeField(blank=True, null=True, verbose_name='started at')),
                ('published_at', models.DateTimeField(blank=True, null=True, verbose_name='published at')),
                ('sha256', models.CharField(blank=True, max_length=64, verbose_name='SHA-256 of the PDF')),
                ('size', models.PositiveIntegerField(default=0, verbose_name='size in bytes')),
                ('pdf', models.BinaryField(default=b'', verbose_name='PDF')),
                ('batches', models.ManyToManyField(blank=True, related_name='+', to='flows.importbatch')),
                ('created_by', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to=settings.AUTH_USER_MODEL)),
                ('modified_by', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to=settings.AUTH_USER_MODEL)),
            ],
            options={
                'verbose_name': 'bulletin edition',
                'verbose_name_plural': 'bulletin editions',
                'ordering': ['-month', 'language', '-number', '-created_at'],
                'indexes': [models.Index(fields=['status', 'month'], name='analytics_bulletin_status')],
                'constraints': [models.UniqueConstraint(condition=models.Q(('number__isnull', False)), fields=('month', 'language', 'number'), name='analytics_bulletin_one_number_per_edition'), models.CheckConstraint(condition=models.Q(models.Q(('status', 'published'), _negated=True), models.Q(('number__isnull', False), models.Q(('sha256', ''), _negated=True)), _connector='OR'), name='analytics_bulletin_published_has_number_and_digest')],
            },
        ),
    ]
