"""One router per resource of the central's HTTP API; ``central.app.create_app`` mounts them."""
