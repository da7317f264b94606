"""An example regression project trained by trainrig: its own network on its own table."""
