"""Threshold tuning for field technicians (`host_tools tune`): record scores, sweep the decision settings
over them with the boards' own decision code, look at the trade-off in a local page, and push a setting to a
device with a history to roll back to.

  scores.py    the stored scores of a session or a scored image folder (the one on-disk format)
  dataset.py   an image folder laid out by class, scored once by the emulated board
  record.py    frames and scores captured from a running device
  decide.py    the boards' decision code, replayed over stored scores (camrt's Voter; the OpenMV app's)
  metrics.py   precision / recall / F1, false alarms per 1000 frames, decision delay
  sweep.py     a grid of settings, the figures of each, and the setting proposed for a goal
  configs.py   a setting as a config file the device accepts, validated by the device's own parser
  plots.py     ROC and precision-recall curves with the operating points (PNG)
  apply.py     push a config to a device, with a history on the device, and roll back
  ui.py        the local page (sliders, curves, confusion matrix, frames whose decision changes)
"""
