"""`python -m reconciler` runs the enrollctl command line."""

from reconciler.cli.app import main

if __name__ == "__main__":
    main()
