"""Widgets of the dashboard: each one shows one thing and reports user intent as messages."""
