"""Graph rendering: pyvis (vis-network) HTML that works offline. The only package importing pyvis."""
