"""Shared test configuration.

No test may depend on another having run before it. To show it, TEST_ORDER runs the collected tests
in another order: ``TEST_ORDER=reverse``, or ``TEST_ORDER=shuffle:SEED`` for a random order that the
same SEED repeats, e.g. ``TEST_ORDER=shuffle:1 python -m pytest -m "not slow and not browser"``.
"""

import os
import random

import pytest


def pytest_report_header(config):
    return f"test order: {os.environ.get('TEST_ORDER') or 'as collected'}"


def pytest_collection_modifyitems(config, items):
    order = os.environ.get("TEST_ORDER", "")
    if order == "reverse":
        items.reverse()
    elif order.startswith("shuffle:"):
        random.Random(order.removeprefix("shuffle:")).shuffle(items)
    elif order:
        raise pytest.UsageError(f"TEST_ORDER must be 'reverse' or 'shuffle:SEED'; got {order!r}")
