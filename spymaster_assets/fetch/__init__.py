"""`spymaster fetch`: vendor files for a range of trading days, checked before they appear.

Databento (trades and MBP-10 of ES.FUT, one UTC day per file, with a cost estimate first) and
Massive/Polygon options flat files (S3). Every file is downloaded to a hidden temporary name
next to its final one, verified, and only then renamed, so the raw-files sensor and the bronze
readers never see half a file. No Dagster here: the command line drives it.
"""
