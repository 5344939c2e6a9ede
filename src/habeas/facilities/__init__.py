"""Facilities, modules and cells; space standards and certified capacity."""
