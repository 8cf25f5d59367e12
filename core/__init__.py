"""The base layer: the settings schema, the clock and the services container. Every other package
may import it; it imports none of them (type hints only)."""
