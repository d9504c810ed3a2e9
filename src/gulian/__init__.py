"""Gulian (固链): keep industrial supply chains running through a disruption."""

__version__ = "0.1.0"
