"""Reference data as committed files: municipalities, units, service areas, themes, criteria sets, summaries."""
