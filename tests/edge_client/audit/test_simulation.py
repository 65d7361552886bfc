import numpy as np
import pytest

from edge_client.audit import Question, contributions, layout_for
from edge_client.audit.simulation import (
    CONGRUENCE_LIFT,
    BuiltinPopulation,
    Person,
    Plant,
    simulate_window,
    simulate_windows,
)
from edge_client.selection import simulation as selection_simulation
from fl_server.audit.estimates import AuditEstimates, estimate

FULL = layout_for(list(Question))


def test_calibration_matches_the_selection_simulation() -> None:
    """The audit simulation uses the selection benchmark's +40% (Matz et al. 2017)."""
    assert CONGRUENCE_LIFT == selection_simulation.CONGRUENCE_LIFT


def test_windows_are_reproducible_and_buckets_stable() -> None:
    """Same arguments, same window; a device keeps its style bucket across rounds."""
    person = Person(True, {"1": 0.6})
    a = simulate_window(person, seed=3, index=7, round_number=1, rounds=4, control_share=0.1)
    b = simulate_window(person, seed=3, index=7, round_number=1, rounds=4, control_share=0.1)
    c = simulate_window(person, seed=3, index=7, round_number=2, rounds=4, control_share=0.1)
    assert np.array_equal(a.counts, b.counts) and a.bucket == c.bucket
    batch = simulate_windows(
        BuiltinPopulation(50), range(50), seed=3, round_number=0, rounds=4, control_share=0.1
    )
    single = [
        simulate_window(
            BuiltinPopulation(50).person(i),
            seed=3,
            index=i,
            round_number=0,
            rounds=4,
            control_share=0.1,
        )
        for i in range(50)
    ]
    assert [s.bucket.value for s in single] == [
        ("analytical", "emotional", "unknown")[b] for b in batch.buckets
    ]


def _truth(plant: Plant, round_number: int = 0) -> AuditEstimates:
    w = simulate_windows(
        BuiltinPopulation(4000, seed=1),
        range(4000),
        seed=1,
        round_number=round_number,
        rounds=4,
        control_share=0.2,
        plant=plant,
    )
    total = contributions(w.expected, w.arms, w.buckets, FULL).sum(axis=0)
    return estimate(total, FULL, sigma=0.0, min_cohort=10)


def test_planted_problems_change_exactly_what_they_plant() -> None:
    """Disparity: a 10-point gap; fatigue: a steeper curve; plateau: no lift at the end."""
    none, disparity = _truth(Plant.NONE), _truth(Plant.DISPARITY)
    fatigue, plateau = _truth(Plant.FATIGUE), _truth(Plant.PLATEAU, round_number=3)
    assert none.disparity is not None and disparity.disparity is not None
    assert none.disparity.value == pytest.approx(0.0, abs=1e-9)
    assert disparity.disparity.value == pytest.approx(0.10, abs=1e-9)
    assert none.fatigue is not None and fatigue.fatigue is not None
    curve = [float(e.value or 0.0) for e in none.fatigue]
    steep = [float(e.value or 0.0) for e in fatigue.fatigue]
    assert curve[2] / curve[0] > 0.65
    assert steep[2] / steep[0] < 0.4
    assert none.lift is not None and plateau.lift is not None
    assert float(none.lift.value or 0.0) > 0.03
    assert abs(float(plateau.lift.value or 1.0)) < 0.005
