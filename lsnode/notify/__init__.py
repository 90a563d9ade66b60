"""Notifications (issue «Notifications»): channels, templates, rules, journal — not built yet."""
