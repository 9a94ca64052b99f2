"""inventory models (see docs/architecture.md)."""
