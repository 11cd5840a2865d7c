"""The demo app: one view per way of writing (or mis-writing) Django under ASGI."""
