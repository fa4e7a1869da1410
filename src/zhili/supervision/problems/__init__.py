"""Problem lists: services (writes), selectors (reads), evidence files, KPI rules."""
