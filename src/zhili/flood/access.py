"""The flood app's permissions, read by selectors and services alike."""

VIEW = "flood.view_flood"
RUN = "flood.run_flood"
