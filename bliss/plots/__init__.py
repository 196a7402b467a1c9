"""Plots of BLISS products (matplotlib, Agg backend: files only, no display needed)."""
