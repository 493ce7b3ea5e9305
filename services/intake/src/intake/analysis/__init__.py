"""The secretariat's analysis: proposals counted by unit, service area and theme, as tables, charts and files."""
