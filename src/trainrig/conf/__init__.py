"""Built-in config options (one folder per config group), shipped inside the wheel."""
