"""The cache of forecasts: one row per monthly series asked for, with the version of the data
its result was computed from (mirador.analytics.forecasting)."""

import django.db.models.deletion
import uuid
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('analytics', '0002_bulletin_editions'),
        ('flows', '0006_observation_foreign_keys_unchecked'),
    ]

    operations = [
        migrations.CreateModel(
            name='Forecast',
            fields=[
                ('id', models.UUIDField(default=uuid.uuid4, editable=False, primary_key=True, serialize=False)),
                ('query_key', models.CharField(max_length=64, unique=True, verbose_name='selection key')),
                ('selection', models.JSONField(verbose_name='selection')),
                ('data_version', models.CharField(blank=True, max_length=64, verbose_name='data version')),
                ('result', models.JSONField(blank=True, null=True, verbose_name='result')),
                ('computed_at', models.DateTimeField(blank=True, null=True, verbose_name='computed at')),
                ('requested_version', models.CharField(blank=True, max_length=64, verbose_name='version requested')),
                ('requested_at', models.DateTimeField(blank=True, null=True, verbose_name='requested at')),
                ('created_at', models.DateTimeField(auto_now_add=True)),
                ('dataset', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='+', to='flows.dataset')),
            ],
            options={
                'verbose_name': 'forecast',
                'verbose_name_plural': 'forecasts',
                'indexes': [models.Index(fields=['dataset', 'computed_at'], name='analytics_forecast_data')],
            },
        ),
    ]
