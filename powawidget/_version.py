"""The package's version, in a module of its own: the wire's User-Agent reads it without
importing the package's public names, and the build reads it from here (pyproject.toml)."""

__version__ = "0.1.0"
