"""`python -m trainrig ...` does what the `trainrig` command does."""

from trainrig.cli import main

if __name__ == "__main__":
    main()
