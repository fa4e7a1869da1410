"""Reports: the eight templates' figures (builders), their HTML/PDF/CSV (render),
SVG charts, the run pipeline (services) and the archive's reads (selectors)."""
