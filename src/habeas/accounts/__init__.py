"""Users, roles and scopes (ARCHITECTURE.md, users table), API tokens stored hashed."""
