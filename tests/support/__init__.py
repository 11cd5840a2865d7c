"""Helpers shared by several test folders (real servers the tests start themselves)."""
