"""Every rule of the input contract: a broken copy of the tiny network, and the message it gives."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest

from engine import InputError, load_inputs


def _load_error(write_input, tables, **kwargs) -> InputError:
    with pytest.raises(InputError) as info:
        load_inputs(write_input(tables), **kwargs)
    return info.value


def test_the_tiny_network_is_valid(write_input, tiny_tables):
    ds = load_inputs(write_input(tiny_tables))
    assert ds.sizes["series"] == 3
    assert ds.attrs["freq"] == "W-MON"


# -- the directory and the columns --------------------------------------------------------------


def test_missing_required_table(write_input, tiny_tables):
    del tiny_tables["fulfilment"]
    with pytest.raises(InputError, match=r"fulfilment\.csv: expected the required table "
                                         r"fulfilment \(\.csv or \.parquet\), found no file"):
        load_inputs(write_input(tiny_tables))


def test_a_missing_table_is_named_in_the_format_of_the_others(write_input, tiny_tables,
                                                               tmp_path):
    """A missing Parquet table was reported as ``sales.csv`` (issue 17, point 8)."""
    del tiny_tables["sales"]
    directory = write_input(tiny_tables)
    for file in directory.glob("*.csv"):
        pd.read_csv(file, dtype=str).to_parquet(file.with_suffix(".parquet"))
        file.unlink()
    with pytest.raises(InputError, match=r"sales\.parquet: expected the required table sales"):
        load_inputs(directory)


def test_a_semicolon_separated_file_gets_one_hint(write_input, tiny_tables):
    """A CSV saved with semicolons gave one line per column it seemed to miss."""
    directory = write_input(tiny_tables)
    text = (directory / "channels.csv").read_text().replace(",", ";")
    (directory / "channels.csv").write_text(text)
    error = _load_error(lambda tables: directory, tiny_tables)
    assert len(error.problems) == 1
    assert re.search(r"channels\.csv: expected columns separated by commas, found one column "
                     r"'channel;kind;.*': the file seems separated by ';'; save it as CSV with "
                     r"commas", str(error))


def test_an_empty_catalogue_is_one_problem(write_input, tiny_tables):
    """A header-only skus.csv gave 26 lines: one per sales row naming an unknown SKU."""
    tiny_tables["skus"] = tiny_tables["skus"].iloc[:0]
    error = _load_error(write_input, tiny_tables)
    assert [str(p) for p in error.problems] == [
        "skus.csv: expected at least one row, found an empty table"]


def test_unknown_table_file(write_input, tiny_tables):
    tiny_tables["sale"] = tiny_tables["sales"]
    with pytest.raises(InputError, match=r"sale\.csv: expected a table named one of skus, "
                                         r".*found unknown table 'sale'"):
        load_inputs(write_input(tiny_tables))


def test_a_table_in_two_formats(write_input, tiny_tables):
    path = write_input(tiny_tables)
    tiny_tables["skus"].to_parquet(path / "skus.parquet")
    with pytest.raises(InputError, match=r"skus\.csv, skus\.parquet: expected one file per "
                                         r"table, found 2 files"):
        load_inputs(path)


def test_missing_required_column(write_input, tiny_tables):
    tiny_tables["sales"] = tiny_tables["sales"].drop(columns="units")
    with pytest.raises(InputError, match=r"sales\.csv, column units: expected a required "
                                         r"column, found no such column"):
        load_inputs(write_input(tiny_tables))


def test_duplicates_are_reported_with_a_missing_column(write_input, tiny_tables):
    """A table that misses a required column still has its keys checked in the same pass
    (issue 17, point 8), and nothing else cascades from it."""
    sales = tiny_tables["sales"]
    tiny_tables["sales"] = pd.concat([sales, sales.iloc[[2]]]).drop(columns=["units"])
    error = _load_error(write_input, tiny_tables)
    text = [str(p) for p in error.problems]
    assert len(text) == 2
    assert text[0] == "sales.csv, column units: expected a required column, found no such column"
    assert re.search(r"sales\.csv row 17 \(line 18\), column sku, channel, region, date: "
                     r"expected one row per \(sku, channel, region, date\), found .* again, "
                     r"first at row 3", text[1])


@pytest.mark.parametrize(("table", "column"), [("channels", "kind"), ("skus", "unit_cost"),
                                             ("locations", "kind")])
def test_a_keyed_table_missing_a_required_column_is_one_problem(write_input, tiny_tables,
                                                                 table, column):
    """(A text or number column without a default used to crash the key check.)"""
    tiny_tables[table] = tiny_tables[table].drop(columns=column)
    error = _load_error(write_input, tiny_tables)
    assert [str(p) for p in error.problems] == [
        f"{table}.csv, column {column}: expected a required column, found no such column"]


def test_unknown_column_lists_the_allowed_ones(write_input, tiny_tables):
    tiny_tables["skus"]["unit"] = 1
    with pytest.raises(InputError, match=r"skus\.csv, column unit: expected a column named one "
                                         r"of sku, category, unit_cost, .*found unknown "
                                         r"column 'unit'"):
        load_inputs(write_input(tiny_tables))


def test_optional_columns_take_their_defaults(write_input, tiny_tables):
    tiny_tables["skus"] = tiny_tables["skus"].drop(columns=["unit_volume", "pack_size", "moq"])
    tiny_tables["channels"] = tiny_tables["channels"][["channel", "kind"]]
    tiny_tables["sales"] = tiny_tables["sales"].drop(columns=["price", "promo"])
    ds = load_inputs(write_input(tiny_tables))
    assert ds["unit_volume"].values.tolist() == [1.0, 1.0]
    assert ds["pack_size"].values.tolist() == [1, 1]
    assert ds["service_level"].values.tolist() == [0.95, 0.95]
    assert ds["backorders"].values.tolist() == [False, False]
    assert np.isnan(ds["sales_price"].values).all()
    assert not ds["promo"].values.any()


def test_unreadable_parquet_file(write_input, tiny_tables):
    path = write_input(tiny_tables)
    (path / "skus.csv").unlink()
    (path / "skus.parquet").write_bytes(b"not a parquet file")
    with pytest.raises(InputError, match=r"skus\.parquet: expected a readable table, found an "
                                         r"unreadable file"):
        load_inputs(path)


def test_not_a_directory(tmp_path):
    with pytest.raises(InputError, match=r"expected a directory of input tables, found no such "
                                         r"directory"):
        load_inputs(tmp_path / "nowhere")


def test_empty_required_table(write_input, tiny_tables):
    tiny_tables["fulfilment"] = tiny_tables["fulfilment"].iloc[:0]
    with pytest.raises(InputError, match=r"fulfilment\.csv: expected at least one row, found an "
                                         r"empty table"):
        load_inputs(write_input(tiny_tables))


# -- cells: types and ranges ---------------------------------------------------------------------


def test_empty_required_cell_names_row_and_line(write_input, tiny_tables):
    tiny_tables["sales"].loc[3, "sku"] = None
    with pytest.raises(InputError, match=r"sales\.csv row 4 \(line 5\), column sku: expected a "
                                         r"value, found an empty cell"):
        load_inputs(write_input(tiny_tables))


@pytest.mark.parametrize(("table", "column", "value", "expected"), [
    ("skus", "unit_cost", "abc", r"expected a number > 0, found 'abc'"),
    ("skus", "unit_cost", "0", r"expected a number > 0, found 0"),
    ("skus", "unit_cost", "inf", r"expected a number > 0, found inf"),
    ("skus", "list_price", "-5", r"expected a number > 0, found -5"),
    ("skus", "pack_size", "0", r"expected a whole number >= 1, found 0"),
    ("skus", "pack_size", "2.5", r"expected a whole number >= 1, found 2.5"),
    ("skus", "unit_volume", "0", r"expected a number > 0, found 0"),
    ("channels", "kind", "tv", r"expected one of online, offline, distributor, crossborder, "
                               r"found 'tv'"),
    ("channels", "service_level", "1", r"expected a number in \(0, 1\), found 1"),
    ("channels", "service_level", "0", r"expected a number in \(0, 1\), found 0"),
    ("channels", "backorders", "maybe", r"expected true or false, found 'maybe'"),
    ("channels", "review_period", "0", r"expected a whole number >= 1, found 0"),
    ("locations", "kind", "shop", r"expected one of dc, rdc, pool, found 'shop'"),
    ("locations", "capacity", "-1", r"expected a number >= 0, found -1"),
    ("lanes", "lead_time", "1.5", r"expected a whole number >= 0, found 1.5"),
    ("lanes", "lead_time", "-1", r"expected a whole number >= 0, found -1"),
    ("lanes", "cost_per_unit", "-0.1", r"expected a number >= 0, found -0.1"),
    ("sales", "units", "-4", r"expected a number in \[0, 1e\+12\], found -4"),
    ("sales", "units", "many", r"expected a number in \[0, 1e\+12\], found 'many'"),
    ("sales", "units", "1e300", r"expected a number in \[0, 1e\+12\], found 1e\+300"),
    ("sales", "price", "0", r"expected a number > 0, found 0"),
    ("sales", "date", "2026-13-01", r"expected a date \(YYYY-MM-DD\), found '2026-13-01'"),
    ("inventory", "on_hand", "-2", r"expected a number in \[0, 1e\+12\], found -2"),
    ("inventory", "on_hand", "2e12", r"expected a number in \[0, 1e\+12\], found 2e\+12"),
])
def test_cell_type_and_range(write_input, tiny_tables, table, column, value, expected):
    frame = tiny_tables[table].astype({column: object})
    frame.loc[1, column] = value
    tiny_tables[table] = frame
    with pytest.raises(InputError, match=rf"{table}\.csv row 2 \(line 3\), column {column}: "
                                         + expected):
        load_inputs(write_input(tiny_tables))


def test_many_bad_rows_are_summarised(write_input, tiny_tables):
    tiny_tables["sales"]["units"] = -1
    error = _load_error(write_input, tiny_tables)
    assert len(error.problems) == 1
    assert re.search(r"sales\.csv rows 1, 2, 3, 4, 5 and 11 more, column units: expected a "
                     r"number in \[0, 1e\+12\], found -1", str(error))


def test_distinct_bad_values_are_listed_up_to_five(write_input, tiny_tables):
    tiny_tables["sales"]["units"] = -np.arange(1, 17)
    error = _load_error(write_input, tiny_tables)
    assert len(error.problems) == 6
    assert "found 11 other values" in str(error)


# -- keys ---------------------------------------------------------------------------------------


def test_duplicate_sku(write_input, tiny_tables):
    tiny_tables["skus"] = pd.concat([tiny_tables["skus"], tiny_tables["skus"].iloc[[0]]])
    with pytest.raises(InputError, match=r"skus\.csv row 3 \(line 4\), column sku: expected one "
                                         r"row per \(sku\), found \(A\) again, first at row 1"):
        load_inputs(write_input(tiny_tables))


def test_duplicate_sales_row(write_input, tiny_tables):
    sales = tiny_tables["sales"]
    tiny_tables["sales"] = pd.concat([sales, sales.iloc[[4]]], ignore_index=True)
    with pytest.raises(InputError, match=r"sales\.csv row 17 \(line 18\), column sku, channel, "
                                         r"region, date: expected one row per \(sku, channel, "
                                         r"region, date\), found \(A, tmall, east, 2026-01-19\) "
                                         r"again, first at row 5"):
        load_inputs(write_input(tiny_tables))


def test_duplicate_lane(write_input, tiny_tables):
    lanes = tiny_tables["lanes"]
    tiny_tables["lanes"] = pd.concat([lanes, lanes.iloc[[1]]], ignore_index=True)
    with pytest.raises(InputError, match=r"expected one row per \(origin, destination\), found "
                                         r"\(dc, rdc_south\) again"):
        load_inputs(write_input(tiny_tables))


# -- references ---------------------------------------------------------------------------------


@pytest.mark.parametrize(("table", "column", "value", "expected"), [
    ("sales", "sku", "Z", r"a sku listed in skus, found 'Z'"),
    ("sales", "channel", "douyin", r"a channel listed in channels, found 'douyin'"),
    ("sales", "region", "north", r"a region of a location in locations, found 'north'"),
    ("fulfilment", "region", "west", r"a region of a location in locations, found 'west'"),
    ("fulfilment", "location", "rdc_x", r"a location listed in locations, found 'rdc_x'"),
    ("lanes", "destination", "rdc_x", r"a location listed in locations, found 'rdc_x'"),
    ("inventory", "location", "shop", r"a location listed in locations, found 'shop'"),
    ("inventory", "sku", "Q", r"a sku listed in skus, found 'Q'"),
    ("locations", "channel", "jd", r"a channel listed in channels \(or empty\), found 'jd'"),
])
def test_unknown_reference(write_input, tiny_tables, table, column, value, expected):
    tiny_tables[table].loc[1, column] = value
    error = _load_error(write_input, tiny_tables)
    assert re.search(rf"{table}\.csv row 2 \(line 3\), column {column}: expected {expected}",
                     str(error)), str(error)


def test_optional_table_references(write_input, tiny_tables):
    tiny_tables["in_transit"] = pd.DataFrame({
        "sku": ["A", "X", "A"], "origin": ["dc", "dc", "rdc_south"],
        "destination": ["rdc_east", "rdc_east", "dc"], "quantity": [5, 5, 5],
        "arrival_date": ["2026-02-20"] * 3})
    tiny_tables["supply"] = pd.DataFrame({"sku": ["A"], "location": ["nowhere"],
                                          "date": ["2026-03-01"], "quantity": [100]})
    tiny_tables["prices"] = pd.DataFrame({"sku": ["A", "B"], "channel": ["tmall", "kuaishou"],
                                          "price": [95.0, 45.0]})
    tiny_tables["promotions"] = pd.DataFrame({
        "sku": ["*", "category:toys", "B"], "channel": ["tmall", "*", "tv"],
        "region": ["*", "east", "*"], "start": ["2026-03-01", "2026-03-01", "2026-04-01"],
        "end": ["2026-03-08", "2026-02-01", "2026-04-02"], "uplift": [1.5, 2.0, 1.2]})
    message = str(_load_error(write_input, tiny_tables))
    for expected in [
        r"in_transit\.csv row 2 \(line 3\), column sku: expected a sku listed in skus, found 'X'",
        r"in_transit\.csv row 3 \(line 4\), column origin, destination: expected an origin and "
        r"destination joined by a lane in lanes, found \(rdc_south -> dc\) with no lane",
        r"supply\.csv row 1 \(line 2\), column location: expected a location listed in "
        r"locations, found 'nowhere'",
        r"prices\.csv row 2 \(line 3\), column channel: expected a channel listed in channels, "
        r"found 'kuaishou'",
        r"promotions\.csv row 2 \(line 3\), column sku: expected a sku from skus, category:NAME "
        r"with a category from skus, or \*, found 'category:toys'",
        r"promotions\.csv row 3 \(line 4\), column channel: expected a channel listed in "
        r"channels, or \*, found 'tv'",
        r"promotions\.csv row 2 \(line 3\), column end: expected an end on or after the start, "
        r"found 2026-02-01 before 2026-03-01",
    ]:
        assert re.search(expected, message), f"{expected}\nnot in\n{message}"


# -- the network --------------------------------------------------------------------------------


def test_at_least_one_dc(write_input, tiny_tables):
    tiny_tables["locations"].loc[0, "kind"] = "rdc"
    with pytest.raises(InputError, match=r"locations\.csv, column kind: expected at least one "
                                         r"location of kind dc, found none"):
        load_inputs(write_input(tiny_tables))


def test_pool_needs_its_channel(write_input, tiny_tables):
    tiny_tables["locations"].loc[3, "channel"] = ""
    with pytest.raises(InputError, match=r"locations\.csv row 4 \(line 5\), column channel: "
                                         r"expected the owning channel of a pool, found an "
                                         r"empty cell"):
        load_inputs(write_input(tiny_tables))


def test_only_pools_are_dedicated(write_input, tiny_tables):
    tiny_tables["locations"].loc[1, "channel"] = "tmall"
    with pytest.raises(InputError, match=r"locations\.csv row 2 \(line 3\), column channel: "
                                         r"expected an empty channel \(only pools are dedicated "
                                         r"to a channel\), found 'tmall' on a location of kind "
                                         r"rdc"):
        load_inputs(write_input(tiny_tables))


def test_lane_to_itself(write_input, tiny_tables):
    tiny_tables["lanes"].loc[2, "destination"] = "rdc_east"
    with pytest.raises(InputError, match=r"lanes\.csv row 3 \(line 4\), column destination: "
                                         r"expected a destination other than the origin, found "
                                         r"'rdc_east' for origin 'rdc_east'"):
        load_inputs(write_input(tiny_tables))


def test_every_location_reachable_from_a_dc(write_input, tiny_tables):
    tiny_tables["lanes"] = tiny_tables["lanes"].drop(index=3)
    with pytest.raises(InputError, match=r"locations\.csv row 4 \(line 5\), column location: "
                                         r"expected a location reachable from a dc along lanes, "
                                         r"found 'tmall_pool' with no lane path from dc"):
        load_inputs(write_input(tiny_tables))


def test_every_traded_channel_region_has_a_location(write_input, tiny_tables):
    rules = tiny_tables["fulfilment"]
    tiny_tables["fulfilment"] = rules[~((rules.channel == "tmall") & (rules.region == "south"))]
    with pytest.raises(InputError, match=r"sales\.csv rows 7, 10, 13, 16, column channel, "
                                         r"region: expected a \(channel, region\) with an "
                                         r"eligible location in fulfilment, found \(tmall, "
                                         r"south\) with none"):
        load_inputs(write_input(tiny_tables))


def test_a_pool_serves_only_its_channel(write_input, tiny_tables):
    tiny_tables["fulfilment"].loc[3, "location"] = "tmall_pool"
    with pytest.raises(InputError, match=r"fulfilment\.csv row 4 \(line 5\), column location: "
                                         r"expected a shared location or a pool of the same "
                                         r"channel, found 'tmall_pool', a pool of 'tmall', "
                                         r"serving 'stores'"):
        load_inputs(write_input(tiny_tables))


# -- dates --------------------------------------------------------------------------------------


def test_dates_must_fall_on_the_declared_frequency(write_input, tiny_tables):
    with pytest.raises(InputError, match=r"sales\.csv rows 1, 2, 3, 4, 5 and 11 more, column "
                                         r"date: expected the first day of a W-SUN period, found "
                                         r"2026-01-05 \(dates on Mondays \(freq W-MON\)\)"):
        load_inputs(write_input(tiny_tables), freq="W-SUN")


def test_a_date_off_the_inferred_frequency(write_input, tiny_tables):
    tiny_tables["sales"].loc[5, "date"] = "2026-01-21"
    with pytest.raises(InputError, match=r"sales\.csv, column date: expected dates one period "
                                         r"apart: daily, weekly on one weekday, or month starts "
                                         r"\(or declare the frequency\), found gaps of"):
        load_inputs(write_input(tiny_tables))
    with pytest.raises(InputError, match=r"sales\.csv row 6 \(line 7\), column date: expected "
                                         r"the first day of a W-MON period, found 2026-01-21"):
        load_inputs(write_input(tiny_tables), freq="W")


def test_a_sales_date_after_the_as_of_date(write_input, tiny_tables):
    """One future-dated row (a typing mistake in an export) would stretch the history and wreck
    the forecast: it is an input problem naming the row (issue 17, point 1)."""
    tiny_tables["sales"].loc[3, "date"] = "2027-06-07"
    with pytest.raises(InputError, match=r"sales\.csv row 4 \(line 5\), column date: expected "
                                         r"a date on or before the as-of date 2026-03-01 "
                                         r"\(--as-of\), found 2027-06-07"):
        load_inputs(write_input(tiny_tables), as_of="2026-03-01")
    # no other problem is reported for it (the frequency is inferred from the others)
    error = _load_error(write_input, tiny_tables, as_of="2026-03-01")
    assert len(error.problems) == 1
    # with an as-of date after it, the row is valid history
    assert load_inputs(write_input(tiny_tables), as_of="2027-06-30").sizes["period"] > 60


def test_the_default_as_of_date_is_today(write_input, tiny_tables):
    future = (pd.Timestamp.today().normalize() + pd.Timedelta(days=400))
    future -= pd.Timedelta(days=future.weekday())           # a Monday
    tiny_tables["sales"].loc[0, "date"] = f"{future:%Y-%m-%d}"
    with pytest.raises(InputError, match=rf"as-of date {pd.Timestamp.today():%Y-%m-%d}"):
        load_inputs(write_input(tiny_tables))


def test_a_sales_date_long_before_the_history(write_input, tiny_tables):
    """A 1900 date would make a history of 6,600 weeks (issue 17, point 2)."""
    tiny_tables["sales"].loc[2, "date"] = "1900-01-01"
    error = _load_error(write_input, tiny_tables)
    assert len(error.problems) == 1
    assert re.search(r"sales\.csv row 3 \(line 4\), column date: expected a date on or after "
                     r"2006-02-09 \(at most 20 years before the latest sales date\), found "
                     r"1900-01-01", str(error))
    # twenty years of history are fine
    tiny_tables["sales"].loc[2, "date"] = "2006-02-13"
    assert load_inputs(write_input(tiny_tables), freq="W").sizes["period"] > 1000


def test_declared_frequency_must_be_supported(write_input, tiny_tables):
    with pytest.raises(ValueError, match=r"freq must be one of W, D, W-MON"):
        load_inputs(write_input(tiny_tables), freq="H")


def test_daily_and_monthly_frequencies(write_input, tiny_tables):
    months = pd.date_range("2025-01-01", periods=6, freq="MS").strftime("%Y-%m-%d")
    days = pd.date_range("2025-01-01", periods=6, freq="D").strftime("%Y-%m-%d")
    for dates, freq in ((months, "MS"), (days, "D")):
        sales = tiny_tables["sales"].copy()
        sales["date"] = sales["date"].map(dict(zip(sorted(sales["date"].unique()), dates,
                                                   strict=True)))
        ds = load_inputs(write_input({**tiny_tables, "sales": sales}))
        assert ds.attrs["freq"] == freq
        assert ds.sizes["period"] == 6


# -- everything at once -------------------------------------------------------------------------


def test_all_problems_in_all_tables_are_reported_at_once(write_input, tiny_tables):
    tiny_tables["skus"].loc[0, "unit_cost"] = -1
    tiny_tables["channels"].loc[1, "kind"] = "tv"
    tiny_tables["sales"].loc[2, "units"] = -3
    tiny_tables["sales"].loc[7, "sku"] = "Z"
    tiny_tables["lanes"]["lead_time"] = tiny_tables["lanes"]["lead_time"].astype(float)
    tiny_tables["lanes"].loc[0, "lead_time"] = 0.5
    tiny_tables["inventory"].loc[2, "location"] = "mars"
    tiny_tables["locations"].loc[3, "channel"] = ""
    error = _load_error(write_input, tiny_tables)
    tables = sorted({p.table for p in error.problems})
    assert tables == ["channels", "inventory", "lanes", "locations", "sales", "skus"]
    assert len(error.problems) == 7
    assert str(error).startswith("7 problems in ")
    for problem in error.problems:
        assert problem.rows and problem.column and problem.expected and problem.found
