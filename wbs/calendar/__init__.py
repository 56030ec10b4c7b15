"""Indonesian working-day calendar: national holidays, cuti bersama, unit closures."""
