"""Hand each day's segment changes to consumers: CSV files and signed webhooks (SPEC 4.3)."""

from segment_pipeline.deliver.csv_export import export_csv, export_path
from segment_pipeline.deliver.deliveries import ensure_deliveries_table
from segment_pipeline.deliver.webhook import DeliveryReport, WebhookSender, resolve_secret

__all__ = [
    "DeliveryReport",
    "WebhookSender",
    "ensure_deliveries_table",
    "export_csv",
    "export_path",
    "resolve_secret",
]
