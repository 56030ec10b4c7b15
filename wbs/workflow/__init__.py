"""Case workflows as data: `workflows/<case type>.yaml` loaded, validated and run."""
