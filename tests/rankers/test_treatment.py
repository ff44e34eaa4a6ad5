"""Exposure tests: the focal item tops treated slates, is absent from control slates, once per shopper."""

import numpy as np
import pytest

from basketgym.contract.errors import RankerError
from basketgym.rankers import make_ranker
from basketgym.rankers.testing import home_request
from basketgym.rankers.treatment import ExposureTest
from basketgym.rankers.validation import check_response


@pytest.mark.parametrize("assign", ["all", "none", "random"])
def test_focal_item_placement_and_one_test_per_shopper(catalog, rng, assign):
    test = ExposureTest(make_ranker("popularity"), share=0.5, start_day=0, assign=assign)
    test.reset(catalog, seed=1)
    req = home_request(catalog, rng, batch=300, day=3, shoppers=100_000)
    resp = test.rank(req)
    check_response(req, resp, catalog)
    t = test.table()
    rows = {s: i for i, s in enumerate(req.shopper_ids.tolist())}
    for sid, item, treated in zip(t["shopper_id"], t["item_id"], t["treated"], strict=True):
        slate = resp.slate[rows[sid]]
        assert (slate[0] == item) if treated else (item not in slate)
    assert {"all": 1.0, "none": 0.0}.get(assign, t["treated"].mean()) == t["treated"].mean()
    assert t["features"].shape == (len(t["item_id"]), 25)
    again = test.rank(req)  # the same shoppers again: already tested, the base's slates
    assert len(test.table()["item_id"]) == len(t["item_id"])
    plain = make_ranker("popularity")
    plain.reset(catalog, seed=1)
    assert np.array_equal(again.slate, plain.rank(req).slate)


def test_bad_settings_are_clear_errors():
    with pytest.raises(RankerError, match="share = 1.5"):
        ExposureTest(make_ranker("popularity"), share=1.5)
    with pytest.raises(RankerError, match="assign = 'some'"):
        ExposureTest(make_ranker("popularity"), assign="some")
