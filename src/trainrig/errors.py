"""The one exception type for problems the user can fix; the CLI prints it in one line and exits 2."""


class ConfigError(Exception):
    """A bad config value, option, key or path; the message names it and the way out."""
