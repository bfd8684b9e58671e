"""Sub-command groups of the CLI (signatures, policies, render...), one module each."""
