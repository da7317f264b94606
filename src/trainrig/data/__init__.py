"""Data sets as Lightning data modules; one module per data source."""
