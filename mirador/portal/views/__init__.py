"""The portal's public pages, one module per kind of page; the figures come from
mirador.analytics (the portal computes nothing itself)."""
