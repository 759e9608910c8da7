"""Small phases for workflow tests: real HDF5 in, real HDF5/parquet out, each with parameters.

They follow spyralflow's phase contract; ``spyral_style.py`` holds one written against Spyral's.
"""
