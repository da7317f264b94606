"""`trainrig report PATH...`: tables and plots of runs, multiruns and sweeps in one page.

One module per idea: `discover` (which runs and sweeps the paths hold), `objective` (which metric
orders them), `table` (the config keys that differ and the final metrics), `curves` (per-epoch
metrics from `csv/metrics.csv`), `plots` (PNG figures), `write` (report.md and report.html) and
`command` (the command line).
"""
