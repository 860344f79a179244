"""odplan: a declarative plan/apply engine for the opendeploy platform."""

__version__ = "0.1.0"

__all__ = ["__version__"]
