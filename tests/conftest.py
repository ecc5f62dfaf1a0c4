"""What every test shares: no downloads.

A test that needs a dataset is marked with its files (tests/shared_data.py) and skipped
without them; one that reaches for a dataset it was not marked for would otherwise try the
public mirrors (minutes on a slow network) and fill ~/.cache/gradwise. Here any URL beyond
this machine fails at once, naming the folder the tests read; tests of the download code
serve their files from a local socket or a fake urlopen of their own."""
import urllib.error
import urllib.request
from urllib.parse import urlsplit

import pytest
from shared_data import DATA

LOCAL_HOSTS = {"127.0.0.1", "localhost", "::1"}


@pytest.fixture(autouse=True)
def no_downloads(monkeypatch):
    real_urlopen = urllib.request.urlopen

    def local_only(url, *args, **kwargs):
        full = url if isinstance(url, str) else url.full_url
        if urlsplit(full).hostname not in LOCAL_HOSTS:
            raise urllib.error.URLError(f"the tests never download ({full}); they read the "
                                        f"datasets from {DATA}")
        return real_urlopen(url, *args, **kwargs)

    monkeypatch.setattr(urllib.request, "urlopen", local_only)
