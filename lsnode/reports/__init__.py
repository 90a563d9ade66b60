"""Reports: report queries (pure rows and totals) and reportlab rendering — not built yet."""
