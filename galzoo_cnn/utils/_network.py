# Licensed under a 3-clause BSD style license - see LICENSE
"""Failures of a remote query (astroquery, requests) as one line naming the service and what to do."""

import contextlib
import re

from ..exceptions import ServiceError

__all__ = ["service_errors"]


@contextlib.contextmanager
def service_errors(service, *, timeout=None):
    """Raise `~galzoo_cnn.exceptions.ServiceError` for a network failure inside the block.

    requests reports an unreachable host as a chain of retries around the
    whole query URL (several hundred characters of SQL); what a user needs is
    which service failed, how, and what to try.

    Examples
    --------
    >>> from galzoo_cnn.utils._network import service_errors
    >>> with service_errors("SDSS SkyServer"):
    ...     pass
    """
    import requests

    try:
        yield
    except requests.exceptions.HTTPError as err:
        status = getattr(err.response, "status_code", None)
        reason = getattr(err.response, "reason", "") or ""
        advice = "the service is failing: try again later" if status and status >= 500 else "check the query"
        raise ServiceError(f"{service} answered HTTP {status} {reason}".rstrip() + f" ({advice})") from None
    except requests.exceptions.Timeout:
        within = f" within {timeout:g} s" if timeout is not None else ""
        raise ServiceError(f"{service} did not answer{within}: try again later, with a larger timeout= or a "
                           f"smaller limit=") from None
    except requests.exceptions.ConnectionError as err:
        raise ServiceError(f"{service} cannot be reached: {_why(err)} (no network connection here, or a "
                           f"proxy is needed: HTTPS_PROXY)") from None


def _why(err):
    """The innermost reason of a requests connection error, without the pool's URL and retry count."""
    reason = err.args[0] if err.args else err
    reason = getattr(reason, "reason", reason)  # urllib3's MaxRetryError wraps the real cause
    text = " ".join(str(reason).split())
    # "HTTPSConnection(host='skyserver.sdss.org', port=443): Failed to resolve ..." -> "Failed to resolve ..."
    text = re.sub(r"^<?[\w.]*Connection(Pool)?\b[^:]*>?: ", "", text)
    return text or type(reason).__name__
