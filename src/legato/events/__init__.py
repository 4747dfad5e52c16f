"""Event handlers and the built-in `conductor` event queue (Conductor's events, section 7)."""
