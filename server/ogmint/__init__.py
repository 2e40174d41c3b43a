"""ogmint: a self-hostable Open Graph image service."""

__version__ = "0.1.0"
