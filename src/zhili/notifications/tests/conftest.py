import pytest

from zhili.governance.tests.conftest import categories, now, report  # noqa: F401


@pytest.fixture(autouse=True)
def _channels_start_fresh():
    """Loaded channels keep a rate bucket and a back-off pause per process: not across tests."""
    from zhili.notifications import channels

    channels.reset()
    yield
    channels.reset()
