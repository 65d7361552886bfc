from collections.abc import Callable
from datetime import datetime, timedelta, timezone

import pytest

from edge_client.behaviour import (
    AmountBucket,
    BehaviourError,
    DayType,
    DeviceClass,
    Purchase,
    Session,
    SessionLength,
    TimeOfDay,
    View,
)
from edge_client.errors import ArgumentError


def test_amounts_become_buckets_and_the_number_is_not_kept() -> None:
    """A numeric amount is replaced by its bucket at once."""
    assert Purchase(("473",), amount=25.5).amount is AmountBucket.FROM_10_TO_50
    assert Purchase("473", amount=5000).amount is AmountBucket.OVER_1000
    assert Purchase("473", amount="under_10").amount is AmountBucket.UNDER_10
    assert not any(isinstance(v, float) for v in vars(Purchase("473", amount=25.5)).values())


def test_time_of_day_uses_the_events_own_time_zone() -> None:
    """19:30 UTC is evening in London and night (00:30) in Bangkok."""
    moment = datetime(2025, 1, 4, 19, 30, tzinfo=timezone.utc)
    assert TimeOfDay.of(moment) is TimeOfDay.EVENING
    assert TimeOfDay.of(moment.astimezone(timezone(timedelta(hours=5)))) is TimeOfDay.NIGHT
    assert DayType.of(moment) is DayType.WEEKEND
    assert SessionLength.of(60) is SessionLength.SHORT
    assert SessionLength.of(20 * 60) is SessionLength.LONG


@pytest.mark.parametrize(
    ("build", "error"),
    [
        (lambda: View(()), ArgumentError),
        (lambda: View(("483",) * 3 + tuple(str(i) for i in range(9))), BehaviourError),
        (lambda: View(("483",), dwell_seconds=float("nan")), ArgumentError),
        (lambda: View(("483",), dwell_seconds=-1), BehaviourError),
        (lambda: View(("483",), at=datetime(2025, 1, 1)), ArgumentError),
        (lambda: View((b"483",)), ArgumentError),  # type: ignore[arg-type]  # refused at run time
        (lambda: View(("x" * 65,)), ArgumentError),
        (lambda: Purchase(("473",), amount=-3), BehaviourError),
        (lambda: Session(10**9), BehaviourError),
        (lambda: View(("483",), device="fridge"), ArgumentError),
    ],
)
def test_malformed_events_fail_with_project_errors(
    build: Callable[[], object], error: type[Exception]
) -> None:
    """Every malformed field is refused with the project's error when the event is built."""
    with pytest.raises(error):
        build()


def test_view_accepts_names_and_deduplicates_categories() -> None:
    """Category lists lose duplicates; enums may be given by name."""
    view = View(["483", "483", "545"], dwell_seconds=10, device="PHONE")
    assert view.categories == ("483", "545")
    assert view.device is DeviceClass.PHONE
