"""What a run leaves on disk: results, checkpoints, atomic files, redaction and resume."""
