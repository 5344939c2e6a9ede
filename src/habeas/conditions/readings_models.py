"""Cell sensor readings and the alerts they raise (issue 14, items 1-3): temperature,
relative humidity and CO₂ per cell, the batches they arrived in, the latest state per cell
and the heat and silent-sensor alerts opened and closed on the ledger.

Readings are not one ledger entry each: a batch is one entry committing to its rows (count,
time range and SHA-256 of the canonical rows, per cell), see
:mod:`habeas.conditions.readings_events`.
"""

from __future__ import annotations

from django.db import models
from django.db.models import Q

from habeas.core.services import ServiceModel

__all__ = [
    "CellAlert",
    "CellAlertKind",
    "CellClimate",
    "Reading",
    "ReadingBatch",
    "ReadingHour",
    "ReadingRollup",
    "ReadingSource",
    "SensorToken",
]


class ReadingSource(models.TextChoices):
    CSV = "csv", "CSV file"
    API = "api", "API"
    MQTT = "mqtt", "MQTT"
    DEMO = "demo", "demo"


class ReadingBatch(ServiceModel):
    """One ingested batch of readings (Mandela Rule 13: the climatic conditions of
    accommodation watched). Its ledger entry ``conditions.readings_ingested`` commits to the
    rows it stored: how many, from when to when, and the SHA-256 of their canonical text."""

    source = models.CharField(max_length=8, choices=ReadingSource.choices)
    name = models.CharField(max_length=200, blank=True, help_text="file, sensor or topic")
    received_at = models.DateTimeField()
    count = models.PositiveIntegerField()
    first_taken_at = models.DateTimeField()
    last_taken_at = models.DateTimeField()
    sha256 = models.CharField(max_length=64)

    class Meta:
        ordering = ["-received_at", "-pk"]

    def __str__(self) -> str:
        return f"batch {self.pk}: {self.count} readings"


class Reading(ServiceModel):
    """One reading of one cell at one time: air temperature (°C), relative humidity (%) and
    optionally CO₂ (ppm). Unique per cell and time: ingesting it again changes nothing."""

    # No index of their own: the unique (cell, taken_at) index serves lookups by cell, and
    # batches are read whole, by verify-ledger; each index costs every insert.
    batch = models.ForeignKey(
        ReadingBatch, on_delete=models.PROTECT, related_name="readings", db_index=False
    )
    cell = models.ForeignKey(
        "facilities.Cell", on_delete=models.PROTECT, related_name="+", db_index=False
    )
    taken_at = models.DateTimeField()
    temperature_c = models.FloatField()
    humidity_pct = models.FloatField()
    co2_ppm = models.PositiveIntegerField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["cell", "taken_at"], name="one_reading_per_cell_time"),
            models.CheckConstraint(
                condition=Q(humidity_pct__gte=0) & Q(humidity_pct__lte=100),
                name="reading_humidity_0_100",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.cell_id} at {self.taken_at}: {self.temperature_c} °C"


class CellClimate(ServiceModel):
    """The latest reading of a cell and where the heat-alert evaluation stands (derived: it
    is rebuilt from the readings). ``above_since`` is the first reading of the current run at
    or above the limit; ``below_since`` the first of the current run below it while a heat
    alert is open."""

    cell = models.OneToOneField(
        "facilities.Cell", on_delete=models.PROTECT, related_name="+", primary_key=True
    )
    taken_at = models.DateTimeField()
    temperature_c = models.FloatField()
    humidity_pct = models.FloatField()
    heat_index_c = models.FloatField()
    above_since = models.DateTimeField(null=True, blank=True)
    below_since = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"{self.cell_id}: {self.heat_index_c} °C heat index at {self.taken_at}"


class CellAlertKind(models.TextChoices):
    HEAT = "heat", "heat"
    SENSOR_SILENT = "sensor_silent", "sensor silent"


class CellAlert(ServiceModel):
    """A heat alert (rule A5: heat index at or above the facility's limit, sustained) or a
    silent-sensor alert (A6: no reading for 2 hours from an occupied cell), opened and closed
    on the ledger. ``since`` is when the condition began; ``opened_at`` when it was
    established (after the sustain time for heat)."""

    kind = models.CharField(max_length=16, choices=CellAlertKind.choices)
    cell = models.ForeignKey("facilities.Cell", on_delete=models.PROTECT, related_name="+")
    since = models.DateTimeField()
    opened_at = models.DateTimeField()
    value = models.CharField(max_length=32, help_text="heat index °C, or hours silent")
    closed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-opened_at", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["kind", "cell"],
                condition=Q(closed_at__isnull=True),
                name="one_open_cell_alert_per_kind",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.kind} on {self.cell_id} since {self.since}"


class SensorToken(ServiceModel):
    """A bearer token for one facility's sensors (Mandela Rule 13, the climatic conditions
    watched; Rule 9, need to know): it may only send readings of that facility's cells
    (``POST /api/v1/readings``) and is refused everywhere else. Only its SHA-256 is kept; the
    token is shown once, when the facility's administrator issues it."""

    facility = models.ForeignKey("facilities.Facility", on_delete=models.PROTECT, related_name="+")
    name = models.CharField(max_length=100)
    prefix = models.CharField(max_length=11, db_index=True)
    digest = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField()
    created_by = models.CharField(max_length=150)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["facility_id", "-created_at", "-pk"]

    def __str__(self) -> str:
        return f"{self.prefix}… ({self.name})"


class ReadingRollup(ServiceModel):
    """One run of the retention rule (raw readings kept 30 days, then hourly minimum, mean and
    maximum per cell; Mandela Rule 13 watched over time without keeping every reading). Its
    ledger entry ``conditions.readings_rolled_up`` commits to what it removed (per batch and
    cell: count and SHA-256 of the canonical rows, equal to the batch's own commitment) and
    to the hourly rows it wrote (count and SHA-256 of their canonical text)."""

    run_at = models.DateTimeField()
    cutoff = models.DateTimeField(help_text="readings of groups ending before this were rolled up")
    removed = models.PositiveIntegerField()
    hours = models.PositiveIntegerField()
    sha256 = models.CharField(max_length=64, help_text="SHA-256 of the hourly rows written")

    class Meta:
        ordering = ["-run_at", "-pk"]

    def __str__(self) -> str:
        return f"rollup {self.pk}: {self.removed} readings into {self.hours} hours"


class ReadingHour(ServiceModel):
    """A cell's readings of one hour after the retention period: how many, and minimum, mean
    and maximum of temperature and humidity, and the highest heat index. Written once by a
    rollup and never changed; an hour whose readings arrived in two rollups has a row from
    each (the chart combines them)."""

    rollup = models.ForeignKey(
        ReadingRollup, on_delete=models.PROTECT, related_name="hour_rows", db_index=False
    )
    cell = models.ForeignKey(
        "facilities.Cell", on_delete=models.PROTECT, related_name="+", db_index=False
    )
    hour = models.DateTimeField()
    count = models.PositiveIntegerField()
    temperature_min = models.FloatField()
    temperature_mean = models.FloatField()
    temperature_max = models.FloatField()
    humidity_min = models.FloatField()
    humidity_mean = models.FloatField()
    humidity_max = models.FloatField()
    heat_index_max = models.FloatField()

    class Meta:
        ordering = ["cell_id", "hour"]
        constraints = [
            models.UniqueConstraint(
                fields=["cell", "hour", "rollup"], name="one_reading_hour_per_rollup"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.cell_id} {self.hour}: {self.count} readings"
