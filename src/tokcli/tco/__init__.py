"""Build-vs-buy economics: API vs hosted open-weight vs neocloud vs self-hosted GPUs.

Plain Decimal arithmetic, no typer, no printing. `tokcli.cli.tco` parses options, calls these
modules and renders. The cost model is written out in the README, section `tokcli tco`.
"""
