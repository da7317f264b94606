"""What varies per problem: the task (loss, targets, metrics and their names and directions)."""
