"""A unit's signed key directory: which approved staff keys receive each channel's reports."""
