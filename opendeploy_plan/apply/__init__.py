"""Apply: execute a plan's action graph against the gateway, verifying every mutation."""
