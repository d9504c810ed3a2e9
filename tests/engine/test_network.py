"""SupplyNetwork builders: arrays, tables, proNet files; validation errors; the generator."""

from __future__ import annotations

import numpy as np
import polars as pl
import pytest

from gulian.engine import network
from gulian.engine.generate import chung_lu
from gulian.engine.types import EngineInputError, Scope


def test_from_arrays_orders_links_and_derives_output():
    net = network.from_arrays([2, 0, 0], [1, 2, 1], [5.0, 3.0, 2.0], sector=[0, 1, 1], final_demand=[1.0, 4.0, 0.0])
    # CSR in (supplier, customer) order
    assert net.link_supplier.tolist() == [0, 0, 2]
    assert net.link_customer.tolist() == [1, 2, 1]
    assert net.links.data.tolist() == [2.0, 3.0, 5.0]
    # x0 = sales to firms + final demand
    assert net.output.tolist() == [6.0, 4.0, 5.0]
    assert net.input_totals.tolist() == [0.0, 7.0, 3.0]
    assert net.sales_to_firms.tolist() == [5.0, 0.0, 5.0]
    indptr, ids = net.by_customer
    assert indptr.tolist() == [0, 0, 2, 3]
    assert sorted(net.link_supplier[ids[0:2]].tolist()) == [0, 2]
    assert (net.n_firms, net.n_links, net.n_sectors) == (3, 3, 2)


def test_final_demand_from_output_and_duplicates():
    net = network.from_arrays([0, 0], [1, 1], [2.0, 3.0], sector=[0, 0], output=[10.0, 1.0])
    assert net.links.data.tolist() == [5.0]  # duplicates summed
    assert net.final_demand.tolist() == [5.0, 1.0]  # c = max(x0 - sales, 0)
    first = network.from_arrays([0, 0], [1, 1], [2.0, 3.0], sector=[0, 0], duplicates="first")
    assert first.links.data.tolist() == [2.0]


def test_link_attributes_follow_the_links_and_default_to_the_customer():
    net = network.from_arrays(
        [1, 0], [2, 2], [1.0, 1.0], sector=[0, 0, 0], inventory_days=[5, 6, 7],
        link_inventory_days=[np.nan, 3.0], link_scope=[Scope.OVERSEAS, Scope.CITY],
    )
    assert net.link_scope.tolist() == [Scope.CITY, Scope.OVERSEAS]  # reordered with the links
    assert net.effective_link_inventory_days().tolist() == [3.0, 7.0]


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"supplier": [0], "customer": [3], "value": [1.0]}, "firm index outside"),
        ({"supplier": [0], "customer": [1], "value": [-1.0]}, "≥ 0"),
        ({"supplier": [0, 1], "customer": [1], "value": [1.0]}, "lengths differ"),
        ({"supplier": [0], "customer": [1], "value": [1.0], "output": [1.0]}, "expected 3 values"),
    ],
)
def test_bad_input_is_named(kwargs, message):
    with pytest.raises(EngineInputError, match=message):
        network.from_arrays(sector=[0, 0, 0], **kwargs)


def test_frames_and_csv_round_trip(tmp_path):
    firms = pl.DataFrame({"id": ["a", "b", "c"], "sector": ["C36", "C36", "C39"], "output": [10.0, 20.0, 30.0]})
    links = pl.DataFrame({"supplier": ["a", "b"], "customer": ["c", "c"], "value": [1.0, 2.0]})
    firms.write_csv(tmp_path / "f.csv")
    links.write_csv(tmp_path / "l.csv")
    net = network.read_csv(tmp_path / "f.csv", tmp_path / "l.csv")
    assert net.firm_ids.tolist() == ["a", "b", "c"]
    assert net.sector_labels == ("C36", "C39")
    assert net.sector.tolist() == [0, 0, 1]
    assert net.input_totals.tolist() == [0.0, 0.0, 3.0]
    bad = pl.DataFrame({"supplier": ["a"], "customer": ["z"], "value": [1.0]})
    with pytest.raises(EngineInputError, match="'z' is not in the firm table"):
        network.from_frames(firms, bad)


def test_pronet_files_round_trip(tmp_path):
    net = chung_lu(200, 1_000, 5, rng=np.random.default_rng(7))
    paths = network.write_pronet(net, tmp_path)
    back = network.read_pronet(paths["A"], paths["C"], paths["P"], paths["F"])
    assert back.n_firms == net.n_firms and back.n_links == net.n_links
    np.testing.assert_array_equal(back.links.indptr, net.links.indptr)
    np.testing.assert_array_equal(back.links.indices, net.links.indices)
    np.testing.assert_allclose(back.links.data, net.links.data, rtol=1e-15)
    np.testing.assert_allclose(back.output, net.output, rtol=1e-15)
    np.testing.assert_allclose(back.final_demand, net.final_demand, rtol=1e-15)
    assert back.sector.tolist() == net.sector.tolist()


def test_pronet_reader_follows_the_simulator(tmp_path):
    (tmp_path / "F.txt").write_text("10 7 0\n20 3 0\n30 7 0\n")
    (tmp_path / "A.txt").write_text("10 20 5\n10 20 9\n20 30 4\n99 30 1\n")  # duplicate kept first; 99 unknown
    (tmp_path / "C.txt").write_text("30 4\n")
    (tmp_path / "P.txt").write_text("10 5\n20 4\n30 4\n")
    net = network.read_pronet(*(tmp_path / f"{k}.txt" for k in "ACPF"))
    assert net.firm_ids.tolist() == ["10", "20", "30"]
    assert net.sector.tolist() == [1, 0, 1] and net.sector_labels == ("3", "7")
    assert net.links.data.tolist() == [5.0, 4.0]
    (tmp_path / "C.txt").write_text("40 4\n")
    with pytest.raises(EngineInputError, match="'40' is not in the firm-sector file"):
        network.read_pronet(*(tmp_path / f"{k}.txt" for k in "ACPF"))


def test_subnetwork_keeps_inner_links():
    net = network.from_arrays([0, 1, 2], [1, 2, 3], [1.0, 2.0, 3.0], sector=[0, 1, 2, 3], firm_ids=["a", "b", "c", "d"])
    sub, keep = net.subnetwork(np.array([1, 2, 3]))
    assert keep.tolist() == [1, 2, 3]
    assert sub.firm_ids.tolist() == ["b", "c", "d"]
    assert sub.links.data.tolist() == [2.0, 3.0]


def test_chung_lu_is_consistent_and_heavy_tailed():
    net = chung_lu(5_000, 25_000, 10, rng=np.random.default_rng(1))
    assert 20_000 < net.n_links <= 25_000
    # baseline steady state: output = sales + final demand, value added ≥ 0
    np.testing.assert_allclose(net.output, net.sales_to_firms + net.final_demand)
    assert np.all(net.output >= net.input_totals - 1e-9)
    degree = np.diff(net.links.indptr)
    assert degree.max() > 20 * degree.mean()  # hubs
    again = chung_lu(5_000, 25_000, 10, rng=np.random.default_rng(1))
    np.testing.assert_array_equal(again.links.indices, net.links.indices)
