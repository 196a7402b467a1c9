"""sim.timeconv: astropy Time / date strings <-> TDB seconds past J2000.0."""
import numpy as np
import pytest
from astropy.time import Time

from sim.timeconv import epoch_to_tdb_seconds, tdb_seconds_to_epoch


def test_j2000_is_zero():
    assert epoch_to_tdb_seconds(Time("2000-01-01T12:00:00", scale="tdb")) == 0.0
    assert epoch_to_tdb_seconds("2000-01-01 12:00:00 TDB") == 0.0


def test_julian_date_arithmetic():
    # Bennu's elements epoch JD 2455562.5 TDB is (2455562.5 - 2451545.0) days = 4017.5 d after J2000.
    assert epoch_to_tdb_seconds("JD2455562.5 TDB") == pytest.approx(4017.5 * 86400.0, abs=1e-6)
    assert epoch_to_tdb_seconds(Time(2455562.5, format="jd", scale="tdb")) == pytest.approx(347_112_000.0, abs=1e-6)


def test_utc_input_goes_through_leap_seconds():
    # At 2000-01-01 TT - UTC = 32 leap s + 32.184 s = 64.184 s (IERS Bulletin C); TDB - TT there is
    # about -0.1 ms (Fairhead & Bretagnon periodic terms), so 12:00 UTC falls 64.184 s after J2000.0 TDB.
    s = epoch_to_tdb_seconds("2000-01-01T12:00:00")  # default scale UTC
    assert s == pytest.approx(64.184, abs=2e-3)


def test_round_trip_scalar_and_array():
    t = np.array([-3.1e9, -1.0, 0.0, 0.5, 8.123456e8, 3.1e9])
    back = epoch_to_tdb_seconds(tdb_seconds_to_epoch(t))
    assert isinstance(back, np.ndarray) and back.shape == t.shape
    np.testing.assert_allclose(back, t, rtol=0, atol=1e-6)  # 1 microsecond
    one = tdb_seconds_to_epoch(1234.5)
    assert one.scale == "tdb" and epoch_to_tdb_seconds(one) == pytest.approx(1234.5, abs=1e-6)
    assert tdb_seconds_to_epoch(0.0).isot == "2000-01-01T12:00:00.000"


@pytest.mark.parametrize("bad", ["2026-13-45", "yesterday", "", "JDabc"])
def test_unparsable_dates_give_clear_error(bad):
    with pytest.raises(ValueError, match="cannot parse date"):
        epoch_to_tdb_seconds(bad)


def test_wrong_types_and_non_finite():
    with pytest.raises(ValueError, match="astropy Time or a date string"):
        epoch_to_tdb_seconds(12.0)
    with pytest.raises(ValueError, match="finite"):
        tdb_seconds_to_epoch(float("nan"))
