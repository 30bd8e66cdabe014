"""The directory of service providers and their services, public without sign-in, and referrals
from a person's case to a service, which the provider accepts, declines or completes.
"""
