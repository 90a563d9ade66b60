"""The Kivy app (issue «Client traffic accounting»): screens, view-models, kiosk — not built yet."""
