"""Identity documents a returnee needs (birth certificate, national identity card, passport):
requested, issued, delivered; children and trafficking victims first.
"""
