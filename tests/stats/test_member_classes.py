"""Which member of a class set each real image is: the fit reads each image's top member and how sure the network
is of it; draws follow the fitted proportions and carry those ceilings."""

from __future__ import annotations

import pytest
import torch

from stochvis.stats.member_classes import MemberClasses


def probabilities() -> torch.Tensor:
    """Five images over six classes; the set is classes 1, 3 and 4. Top members: 3, 3, 1, 3, 4 (class 0 is every
    image's overall top in the last one, but it is not a member)."""
    p = torch.tensor([[0.1, 0.1, 0.0, 0.7, 0.1, 0.0],
                      [0.0, 0.2, 0.1, 0.5, 0.1, 0.1],
                      [0.1, 0.6, 0.0, 0.2, 0.1, 0.0],
                      [0.0, 0.0, 0.0, 0.9, 0.1, 0.0],
                      [0.6, 0.1, 0.0, 0.1, 0.2, 0.0]])
    return p


def test_each_image_is_its_top_member_and_a_members_ceiling_is_its_images_mean_probability():
    fitted = MemberClasses.fit(probabilities(), [1, 3, 4])
    assert fitted.tops == [3, 3, 1, 3, 4]
    assert fitted.ceilings == pytest.approx({3: (0.7 + 0.5 + 0.9) / 3, 1: 0.6, 4: 0.2})
    assert fitted.shares() == pytest.approx({3: 0.6, 1: 0.2, 4: 0.2})
    assert list(fitted.shares()) == [3, 1, 4]  # largest first


def test_draws_follow_the_real_images_proportions_with_their_ceilings_and_are_seeded():
    fitted = MemberClasses.fit(probabilities(), [1, 3, 4])
    classes, ceilings = fitted.draw(3000, seed=4)
    assert set(classes) == {1, 3, 4}
    assert classes.count(3) / 3000 == pytest.approx(0.6, abs=0.04)
    assert classes.count(4) / 3000 == pytest.approx(0.2, abs=0.04)
    assert ceilings == [fitted.ceilings[c] for c in classes]
    assert fitted.draw(5, seed=1) == fitted.draw(5, seed=1)
    assert fitted.draw(20, seed=1)[0] != fitted.draw(20, seed=2)[0]


def test_bad_input_is_refused_with_what_is_valid():
    with pytest.raises(ValueError, match=r"class indices in 0\.\.5"):
        MemberClasses.fit(probabilities(), [1, 9])
    with pytest.raises(ValueError, match="non-empty"):
        MemberClasses.fit(probabilities(), [])
    with pytest.raises(ValueError, match=r"\(images, classes\)"):
        MemberClasses.fit(probabilities()[0], [1])
    with pytest.raises(ValueError, match="at least 1"):
        MemberClasses.fit(probabilities(), [1]).draw(0)
