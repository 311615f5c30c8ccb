"""Amazon Ads Connect's consumer client: a connection's Amazon Ads access token, as a ready
``requests`` session (``get_session``), as python-amazon-ad-api clients (``ad_api_client``),
and the tenant's profile mappings (``list_profiles``).

    from amazon_ads_connect_client import get_session
    session = get_session("acme", "EU", profile_id="3456789012345")
    campaigns = session.get("/v2/sp/campaigns").json()

The code is the product's own consumer helper (``ads_connect.consumer`` in the Lambda tree);
``make dist`` places it in ``consumer/`` with the two modules it imports.
"""

from importlib.metadata import version

from . import consumer
from .consumer import *  # noqa: F403 - the helper's public names, listed in its __all__

__all__ = consumer.__all__

__version__ = version("amazon-ads-connect-client")
