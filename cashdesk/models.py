"""cashdesk models (see docs/architecture.md)."""
