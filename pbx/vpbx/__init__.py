"""Rostelecom cloud PBX («Виртуальная АТС»)
over its Integration API (seed 002, §10.6)."""
