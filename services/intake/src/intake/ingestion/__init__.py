"""Ingestion from other regions' systems: CloudEvents over HTTP and NATS, CSV and XLSX files, and the quarantine."""
