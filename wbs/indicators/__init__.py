"""Penguatan Pengawasan indicators: figures per unit and period, suppression, pages."""
