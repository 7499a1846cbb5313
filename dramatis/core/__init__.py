"""The bottom layer every room may import: user errors and typed settings.

It imports nothing else of ours (tests/test_layering.py checks it).
"""
