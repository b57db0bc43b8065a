"""The tiny hand-made network the validation tests break one table at a time."""

from __future__ import annotations

from pathlib import Path

import pandas as pd


def tiny_network() -> dict[str, pd.DataFrame]:
    """Two SKUs, two channels, two regions, a DC, two RDCs and a Tmall pool; six weeks of sales."""
    weeks = pd.date_range("2026-01-05", periods=6, freq="W-MON").strftime("%Y-%m-%d")
    sales = []
    for i, date in enumerate(weeks):
        sales.append((date, "A", "tmall", "east", 10 + i, 99.0, 0))
        sales.append((date, "A", "stores", "south", 3, 105.0, 1 if i == 2 else 0))
        if i >= 2:
            sales.append((date, "B", "tmall", "south", i, 49.0, 0))
    return {
        "skus": pd.DataFrame({"sku": ["A", "B"], "category": ["skincare", "makeup"],
                              "unit_cost": [30.0, 12.0], "list_price": [99.0, 49.0],
                              "unit_volume": [0.002, 0.001], "pack_size": [6, 1],
                              "moq": [0, 0]}),
        "channels": pd.DataFrame({"channel": ["tmall", "stores"], "kind": ["online", "offline"],
                                  "price_index": [1.0, 1.05], "priority": [2, 3],
                                  "service_level": [0.95, 0.97],
                                  "backorders": ["false", "false"], "review_period": [1, 1]}),
        "locations": pd.DataFrame({
            "location": ["dc", "rdc_east", "rdc_south", "tmall_pool"],
            "kind": ["dc", "rdc", "rdc", "pool"],
            "region": ["east", "east", "south", "east"],
            "channel": ["", "", "", "tmall"],
            "capacity": ["inf", 100, 80, 20],
            "holding_rate": [0.2, 0.25, 0.25, 0.3]}),
        "lanes": pd.DataFrame({
            "origin": ["dc", "dc", "rdc_east", "rdc_east"],
            "destination": ["rdc_east", "rdc_south", "rdc_south", "tmall_pool"],
            "lead_time": [1, 2, 1, 1], "lead_time_sd": [0.2, 0.5, 0.0, 0.0],
            "cost_per_unit": [0.5, 1.0, 0.8, 0.2], "capacity": [1000, 500, 100, "inf"]}),
        "fulfilment": pd.DataFrame({
            "channel": ["tmall", "tmall", "tmall", "stores"],
            "region": ["east", "east", "south", "south"],
            "location": ["tmall_pool", "rdc_east", "rdc_south", "rdc_south"]}),
        "sales": pd.DataFrame(sales, columns=["date", "sku", "channel", "region", "units",
                                              "price", "promo"]),
        "inventory": pd.DataFrame({"sku": ["A", "A", "B"],
                                   "location": ["dc", "tmall_pool", "rdc_south"],
                                   "on_hand": [120, 15, 8]}),
    }



def write_csv_tables(directory: Path, tables: dict[str, pd.DataFrame]) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    for name, frame in tables.items():
        frame.to_csv(directory / f"{name}.csv", index=False)
    return directory
