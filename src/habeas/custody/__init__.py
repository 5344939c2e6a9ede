"""Legal bases, custody episodes, placements and releases (Mandela Rules 7, 8, 11)."""
