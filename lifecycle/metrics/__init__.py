"""The metric catalogue, one module per lifecycle area; each declares ``DEFINITIONS`` for the registry."""
