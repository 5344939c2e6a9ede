"""People held or proposed for custody: names as given, identifiers by issuing authority."""
