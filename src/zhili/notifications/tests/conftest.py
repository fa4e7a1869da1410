from zhili.governance.tests.conftest import categories, now, report  # noqa: F401
