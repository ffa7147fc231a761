"""Wagtail hooks of the newsroom's review workflow (loaded by wagtail_hooks)."""
