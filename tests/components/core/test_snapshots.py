"""The final snapshot's name: what RDS and ElastiCache accept, and a suffix of its own."""

from __future__ import annotations

import pytest

from components.core.snapshots import final_snapshot_identifier


def test_a_final_snapshot_name_ends_in_its_generations_suffix() -> None:
    assert final_snapshot_identifier("meridian-prod-us-east-1", "0a1b2c3d") == (
        "meridian-prod-us-east-1-final-0a1b2c3d"
    )
    # Two generations (two suffixes), two names.
    assert final_snapshot_identifier("db", "00000000") != final_snapshot_identifier("db", "00000001")


@pytest.mark.parametrize(
    "identifier",
    ["1db", "db--main", "db_main", "db.main", "-db", "d" * 241],  # 241 + 15 = 256 characters
)
def test_a_name_rds_would_refuse_is_refused(identifier: str) -> None:
    with pytest.raises(ValueError, match="final snapshot name"):
        final_snapshot_identifier(identifier, "0a1b2c3d")


def test_the_longest_name_rds_accepts_is_accepted() -> None:
    assert len(final_snapshot_identifier("d" * 240, "0a1b2c3d")) == 255
