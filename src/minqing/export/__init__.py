"""Exports of orders: the formula-safe CSV/XLSX writer and the ticket export."""
