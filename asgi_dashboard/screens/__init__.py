"""Screens: the main dashboard, request detail, help, and the export dialog."""
