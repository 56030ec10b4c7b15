"""Operations: health, readiness and metrics endpoints; backup, restore and upgrade safety."""
