"""Deliveries: receipts and status notices sent to proposers, each at most once, and the log that proves it."""
