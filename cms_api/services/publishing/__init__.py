"""Publishing: rendering public documents once and announcing each change."""
