"""Personalized voice menus and the PBX-facing IVR endpoints."""
