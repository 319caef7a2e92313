"""The `lineage` command. One module per group of subcommands; main.py wires them."""
