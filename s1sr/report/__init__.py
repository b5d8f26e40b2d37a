"""Reports of a run: the verdict record and results.json, the console summary."""
