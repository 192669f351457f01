"""`host_tools bench`: latency and FPS of the app running on a board.

collect.py   read the board's result lines (through the device layer) into per-frame samples
stats.py     percentiles, and the Mann-Whitney U test --compare uses
report.py    the versioned JSON report (bench_result.schema.json), CSV and text
compare.py   --compare / --fail-if-slower
plot.py      the PNG
model.py     which model the board runs, its size, MACs and ESTIMATED board latency
run.py       the command's flow
"""
