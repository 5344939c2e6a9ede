"""Locator, public statistics, access log and oversight pages."""
