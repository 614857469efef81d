"""The warehouse seam: every statement is a sqlglot expression rendered for one dialect."""

from segment_pipeline.warehouse.engine import Warehouse, WarehouseSettings

__all__ = ["Warehouse", "WarehouseSettings"]
