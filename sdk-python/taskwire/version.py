"""The SDK's version, sent to the server in Hello."""

__version__ = "0.1.0"
