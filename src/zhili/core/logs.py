"""Logging filters named by settings.LOGGING."""

import logging


class ClientErrorsWithoutTraceback(logging.Filter):
    """A 4xx (a refused permission, a missing page) is the client's doing: log the one
    line Django writes, not the traceback of the exception behind it. 5xx keep theirs."""

    def filter(self, record: logging.LogRecord) -> bool:
        status = getattr(record, "status_code", None)
        if status is not None and status < 500 and record.exc_info:
            record.exc_info = None
            record.exc_text = None
        return True
