"""`spymaster bench`: the per-day chain measured against the decompression floor (issue 6).

floor.py times decompressing the raw files to nothing; chain.py runs the whole per-day chain in a
child process (warm: kernels and imports loaded on a small day first) and reports each asset's
wall time, records per second and RSS; naive.py is the `DBNStore.to_df()` baseline; run.py
orchestrates, report.py writes the JSON and markdown.
"""
