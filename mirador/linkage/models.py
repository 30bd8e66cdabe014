"""Linking person records within and across registries and countries: the Splink-based engine,
its saved models, and (later) privacy-preserving encodings and the review queue.
"""
