"""Pilot mode: compare maintenance policies on the simulated line with honest KPI accounting."""
