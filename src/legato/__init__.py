"""Legato: durable, event-driven workflow orchestration, compatible with Conductor."""

__version__ = "0.1.0"
