"""The command line: click commands only (options, engine calls, output, exit codes)."""
