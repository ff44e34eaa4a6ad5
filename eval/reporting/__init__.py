"""Results into text, JSON and figures: number formats and tables, the run's analysis and report, plots, study reports.

The top of eval/: it reads run directories and what the other subpackages compute; nothing below imports it.
"""
