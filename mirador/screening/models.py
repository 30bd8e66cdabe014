"""Screening of returnees for vulnerability at reception: health, psychosocial state, protection
risks (threats, violence, trafficking indicators), disability, pregnancy and special needs.
Each answer that signals a risk raises a flag with a required action.
"""
