"""reports models (see docs/architecture.md)."""
