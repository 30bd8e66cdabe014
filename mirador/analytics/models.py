"""What the observatory computes from its observations: indicators with their sources, disclosure
control of everything public, and open-data exports.
"""
