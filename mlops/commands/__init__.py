"""What each `mlops` command does; `mlops/cli.py` only parses flags and prints. With the CLI this
is the top layer: it may import the pipeline definition and its runners, nothing imports it."""
