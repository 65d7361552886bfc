"""The protocol without Flower: the unmasked sum is exact, with dropouts after every stage."""

from __future__ import annotations

import numpy as np
import pytest

from edge_client.secagg import Stage
from fl_server.secagg import RoundFailedError, choose_degree, min_survivors

from .conftest import CohortFactory, run_round

STAGES = list(Stage)


def _exact(cohort, total) -> None:  # type: ignore[no-untyped-def]  # harness objects
    survivors = cohort.server.survivors
    expected = sum(cohort.contributions[n] for n in survivors)
    got = total.total.view(np.int32).astype(np.int64)
    assert np.array_equal(got, expected)


@pytest.mark.parametrize("stage", STAGES, ids=[s.value for s in STAGES])
@pytest.mark.parametrize("share", [0.0, 0.1, 0.3])
def test_sum_is_exact_with_dropouts_after_each_stage(
    cohort: CohortFactory, stage: Stage, share: float
) -> None:
    """0 %, 10 % and 30 % of devices vanish before a stage: the sum of the rest is exact."""
    group = cohort(10)
    dropped = set(list(group.params.cohort)[: round(share * 10)])
    total = run_round(group, silent={stage: dropped})
    in_sum = set(group.server.survivors)
    if stage in (Stage.ADVERTISE, Stage.SHARE, Stage.MASK):
        assert in_sum == set(group.params.cohort) - dropped  # they sent no input
    else:
        assert in_sum == set(group.params.cohort)  # inputs sent; masks recovered from shares
    _exact(group, total)
    assert total.metrics["num_examples"] == sum(n % 7 + 1 for n in in_sum)


def test_sum_with_noise_is_the_exact_sum_of_noised_inputs(cohort: CohortFactory) -> None:
    """With each device's noise share, the server gets exactly the sum of noised inputs."""
    group = cohort(10, noise=True)
    dropped = set(list(group.params.cohort)[:2])
    total = run_round(group, silent={Stage.CONFIRM: dropped})
    _exact(group, total)
    noise = sum(
        group.contributions[n][:-1] for n in group.server.survivors
    ) - sum(  # minus the noiseless quantized inputs of the same devices
        np.rint(
            np.concatenate([group.updates[n]["b"].ravel(), group.updates[n]["w"].ravel()])
            * 2.0**group.params.scale_bits
        )
        for n in group.server.survivors
    )
    expected = group.params.noise_std * np.sqrt(len(group.server.survivors))
    assert 0.9 * expected < float(np.std(noise)) < 1.1 * expected


def test_sparse_graph_sum_is_exact_with_dropouts(cohort: CohortFactory) -> None:
    """With 40 devices and 16 neighbours each (SecAgg+), 10 % dropping mid-round is recovered."""
    group = cohort(40, neighbours=16, max_dropout=0.1)
    assert all(len(v) == 16 for v in group.server.graph.values()) or not group.server.graph
    dropped = set(list(group.params.cohort)[::10])  # 4 devices
    total = run_round(group, silent={Stage.CONFIRM: dropped})
    assert all(len(v) == 16 for v in group.server.graph.values())
    _exact(group, total)


def test_dropped_before_masking_are_out_and_their_masks_removed(cohort: CohortFactory) -> None:
    """Devices that shared keys then vanished: survivors' masks with them are cancelled."""
    group = cohort(10)
    dropped = set(list(group.params.cohort)[-3:])
    total = run_round(group, silent={Stage.MASK: dropped})
    assert total.dropped == 3 and total.survivors == 7
    _exact(group, total)


@pytest.mark.parametrize("stage", STAGES[:4], ids=[s.value for s in STAGES[:4]])
def test_round_under_threshold_stops_and_publishes_nothing(
    cohort: CohortFactory, stage: Stage
) -> None:
    """Four of ten devices (above the 30 % allowance) vanish: the round stops at that stage."""
    group = cohort(10)
    dropped = set(list(group.params.cohort)[:4])
    with pytest.raises(RoundFailedError) as caught:
        run_round(group, silent={stage: dropped})
    assert caught.value.stage == stage.value.removeprefix("secagg_")


def test_too_few_unmask_replies_stops_the_round(cohort: CohortFactory) -> None:
    """If fewer than a majority of share holders answer the unmask stage, nothing is decoded."""
    group = cohort(10)
    dropped = set(list(group.params.cohort)[:5])
    with pytest.raises(RoundFailedError, match="shares of node"):
        run_round(group, silent={Stage.UNMASK: dropped})


def test_survivor_minimum_and_degree_planning() -> None:
    """The survivor minimum is at least k and above 2n/3; the degree meets the dropout target."""
    assert min_survivors(150, min_cohort=100, max_dropout=0.1) == 135
    assert min_survivors(150, min_cohort=140, max_dropout=0.1) == 140
    assert min_survivors(9, min_cohort=2, max_dropout=0.3) == 7  # > 2n/3 = 6
    assert choose_degree(10, max_dropout=0.3) == 9  # small cohorts: complete graph
    low, high = choose_degree(1000, max_dropout=0.1), choose_degree(1000, max_dropout=0.3)
    assert 16 <= low < high < 999 and low % 2 == 0
