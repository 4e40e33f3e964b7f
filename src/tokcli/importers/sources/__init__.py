"""The format parsers of `tokcli import`: one module per billing or usage format, each turning
one input into `Parsed` rows (importers/format.py). They never write to the store."""
