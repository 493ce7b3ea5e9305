"""The only import surface between services: envelope, subjects, streams and event models."""
