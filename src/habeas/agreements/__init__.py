"""Jurisdictions and the agreements under which one state holds people for another."""
