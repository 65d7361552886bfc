"""Secure aggregation on the device: masked, noised updates; the server learns only a sum.

A SecAgg+-style protocol (Bonawitz et al. 2017; Bell et al. 2020) hardened against a
malicious server (signed key advertisements, signed survivor sets, model hash bound to the
session), with distributed discrete Gaussian noise (Kairouz, Liu, Steinke 2021). The
protocol logic (:mod:`~edge_client.secagg.session`) does not import Flower; the ClientApp
stages live in :mod:`edge_client.secagg.clientapp`.
"""

from __future__ import annotations

from edge_client.secagg.encoding import Layout, decode_sum, encode_update
from edge_client.secagg.errors import IdentityError, Refusal, RefusalError, SecAggError
from edge_client.secagg.identity import (
    Certificate,
    DeviceIdentity,
    issue_certificate,
    load_identity,
    verify_certificate,
    write_identities,
)
from edge_client.secagg.params import RoundParams, check_params
from edge_client.secagg.session import DeviceSession, Stage

__all__ = [
    "Certificate",
    "DeviceIdentity",
    "DeviceSession",
    "IdentityError",
    "Layout",
    "Refusal",
    "RefusalError",
    "RoundParams",
    "SecAggError",
    "Stage",
    "check_params",
    "decode_sum",
    "encode_update",
    "issue_certificate",
    "load_identity",
    "verify_certificate",
    "write_identities",
]
