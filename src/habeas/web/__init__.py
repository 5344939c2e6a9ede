"""Web shell: base layout, dashboard, login, vendored static assets."""
