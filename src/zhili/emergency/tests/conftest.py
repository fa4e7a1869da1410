import pytest


@pytest.fixture(autouse=True)
def _road_graph_reread():
    """The per-process graph cache must not carry a rolled-back test's network."""
    from zhili.emergency import routing

    routing.mark_stale()
    yield
    routing.mark_stale()
