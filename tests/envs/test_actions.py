"""The slate rule (a policy's candidate indices to a slate) and the marketplace's ad rule."""

import numpy as np

from basketgym.envs.actions import shown_response, slates_from_actions
from basketgym.envs.engine import ShopperLives


def test_slate_rule_drops_bad_and_repeated_picks_and_closes_up(lives):
    cands = lives.cands
    slots = np.array([0, 1])
    c = lives.n_candidates
    valid = [np.flatnonzero(cands[s] >= 0) for s in slots]
    a, b = valid[0], valid[1]
    actions = np.array(
        [
            [a[3], a[3], -1, c + 5, a[1], a[3], a[0], a[2], a[4], a[5]],  # repeats, out of range
            [b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9]],  # all good
        ]
    )
    slates = slates_from_actions(lives.cands, actions, slots)
    assert slates[0].tolist() == [cands[0, i] for i in (a[3], a[1], a[0], a[2], a[4], a[5])] + [-1] * 4
    assert slates[1].tolist() == cands[1, b[:10]].tolist()
    single = ShopperLives(lives.cfg, lives.seed, 1)  # the one-slot loop applies the same rule
    single.start(np.array([0]), lives.world.state.shopper_id[:1])
    assert np.array_equal(single.cands[0], cands[0])
    assert np.array_equal(slates_from_actions(single.cands, actions[:1], np.array([0]))[0], slates[0])
    pad = np.flatnonzero(cands[0] < 0)
    if len(pad):  # a padding candidate is dropped like a bad index
        assert (slates_from_actions(lives.cands, np.full((1, 10), pad[0]), np.array([0])) == -1).all()


def test_ad_rule_sponsors_ad_eligible_items_at_ad_positions(lives):
    pub, mk = lives.world.public, lives.cfg.marketplace
    ads = np.flatnonzero(pub.ad_eligible)[:12]
    plain = np.flatnonzero(~pub.ad_eligible)[:12]
    slate = np.array([[ads[0], plain[0], ads[1], plain[1], ads[2], ads[3], -1, -1, -1, -1], plain[2:12]])
    sponsored = shown_response(slate.astype(np.int32), pub.ad_eligible, mk).sponsored
    expect = np.zeros((2, 10), bool)
    expect[0, [p for p in mk.ad_positions if p < 10]] = True  # positions 0 and 4 hold ad-eligible items
    assert np.array_equal(sponsored, expect)
    assert sponsored.sum(axis=1).max() <= mk.max_sponsored
