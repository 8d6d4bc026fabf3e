"""ExampleGen executors that resolve the input span themselves (see executor.py)."""
