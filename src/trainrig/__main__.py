"""`python -m trainrig ...` does what the `trainrig` command does."""

from trainrig.cli.main import run

if __name__ == "__main__":
    run()
