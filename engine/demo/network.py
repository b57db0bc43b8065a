"""The demo network: channels, regions, locations, lanes and fulfilment rules of a beauty brand.

A brand selling one catalogue through ten channels in six regions of China, from one central DC,
six regional warehouses (RDCs) and seven channel-dedicated pools: two Tmall (Cainiao) warehouses,
a JD warehouse, a Douyin live-stream fulfilment pool and three own-store clusters.

Channel conflict rules encoded in the fulfilment table:

- own stores trade in east, south and north and are served only from their store-cluster pools;
- franchisees own southwest, the distributor owns northwest (exclusive regions: no own stores
  there), and both are served from the RDC of their region (the distributor also from the DC);
  central has no stores yet (a region for a franchise expansion scenario);
- cross-border (Amazon) ships only from the DC;
- a platform's pool serves only that platform (Tmall, JD, Douyin); shared RDCs serve the rest.

Lead times are given in days and in weeks; the demo picks the column of its frequency.
"""

from __future__ import annotations

from dataclasses import dataclass

REGIONS = ("east", "south", "north", "central", "southwest", "northwest")
REGION_SHARE = (0.30, 0.22, 0.18, 0.14, 0.10, 0.06)
DC = "dc_main"


@dataclass(frozen=True)
class DemoChannel:
    """A demo channel with its share of a SKU's demand and the regions it trades in."""

    channel: str
    kind: str
    price_index: float
    priority: float
    service_level: float
    backorders: bool
    review_days: int
    share: float
    regions: tuple[str, ...]


CHANNELS = (
    DemoChannel("tmall", "online", 1.00, 2.0, 0.95, False, 1, 0.22, REGIONS),
    DemoChannel("jd", "online", 0.98, 2.0, 0.95, False, 1, 0.14, REGIONS),
    DemoChannel("douyin", "online", 0.90, 1.5, 0.92, False, 1, 0.16, REGIONS),
    DemoChannel("kuaishou", "online", 0.88, 1.0, 0.90, False, 1, 0.05, REGIONS),
    DemoChannel("wechat_mini", "online", 1.00, 1.5, 0.95, False, 1, 0.05, REGIONS),
    DemoChannel("amazon_xb", "crossborder", 1.40, 1.0, 0.90, False, 7, 0.04, ("east",)),
    DemoChannel("store_direct", "offline", 1.05, 3.0, 0.97, False, 1, 0.13,
                ("east", "south", "north")),
    DemoChannel("franchise", "offline", 0.75, 2.0, 0.95, True, 7, 0.06, ("southwest",)),
    DemoChannel("ka_supermarket", "offline", 0.85, 1.5, 0.95, True, 3, 0.08,
                ("east", "south", "north", "central")),
    DemoChannel("distributor", "distributor", 0.65, 1.0, 0.90, True, 14, 0.05, ("northwest",)),
)

NEW_CHANNEL = "kuaishou"
"""The channel opened recently: its history is short."""
NEW_CHANNEL_DAYS = 112

LIVE_STREAM_CHANNELS = ("douyin", "kuaishou")

# (location, kind, region, owning channel); capacities are sized from the stock later
LOCATIONS = (
    (DC, "dc", "central", ""),
    *((f"rdc_{r}", "rdc", r, "") for r in REGIONS),
    ("tmall_pool_east", "pool", "east", "tmall"),
    ("tmall_pool_south", "pool", "south", "tmall"),
    ("jd_pool_north", "pool", "north", "jd"),
    ("douyin_pool_east", "pool", "east", "douyin"),
    ("stores_east", "pool", "east", "store_direct"),
    ("stores_south", "pool", "south", "store_direct"),
    ("stores_north", "pool", "north", "store_direct"),
)

# DC to RDC: (days, weeks, lead time sd in days, cost per unit)
_DC_TO_RDC = {
    "east": (3, 1, 1.0, 0.8), "south": (4, 1, 1.0, 1.2), "north": (4, 1, 1.0, 1.2),
    "central": (2, 1, 0.5, 0.6), "southwest": (8, 2, 2.5, 2.0), "northwest": (10, 2, 3.0, 2.5),
}
_RDC_NEIGHBOURS = (
    ("east", "south", 3, 1, 1.5), ("east", "north", 3, 1, 1.5), ("east", "central", 2, 1, 1.2),
    ("central", "south", 3, 1, 1.4), ("central", "north", 3, 1, 1.4),
    ("central", "southwest", 5, 1, 2.2), ("central", "northwest", 6, 1, 2.6),
    ("south", "southwest", 5, 1, 2.0), ("north", "northwest", 6, 1, 2.4),
)


def lane_rows() -> list[tuple[str, str, int, int, float, float, str]]:
    """Lanes as (origin, destination, days, weeks, sd_days, cost_per_unit, capacity_class).

    ``capacity_class`` is ``trunk`` (DC outbound), ``local`` (to and from pools) or ``transfer``
    (between RDCs and across channels); the demo sizes each class from the demand.
    """
    rows = []
    for region, (days, weeks, sd, cost) in _DC_TO_RDC.items():
        rows.append((DC, f"rdc_{region}", days, weeks, sd, cost, "trunk"))
    for pool, days in (("tmall_pool_east", 3), ("tmall_pool_south", 4), ("jd_pool_north", 4),
                       ("douyin_pool_east", 3)):
        rows.append((DC, pool, days, 1, 1.0, 0.9, "trunk"))
    for location, kind, region, _ in LOCATIONS:
        if kind == "pool":
            rows.append((f"rdc_{region}", location, 1, 1, 0.0, 0.4, "local"))
            rows.append((location, f"rdc_{region}", 1, 1, 0.0, 0.5, "local"))
    for a, b, days, weeks, cost in _RDC_NEIGHBOURS:
        rows.append((f"rdc_{a}", f"rdc_{b}", days, weeks, 0.5, cost, "transfer"))
        rows.append((f"rdc_{b}", f"rdc_{a}", days, weeks, 0.5, cost, "transfer"))
    rows.append(("tmall_pool_east", "douyin_pool_east", 1, 1, 0.0, 0.5, "transfer"))
    rows.append(("douyin_pool_east", "tmall_pool_east", 1, 1, 0.0, 0.5, "transfer"))
    return rows


_PLATFORM_POOL = {
    "tmall": {"east": "tmall_pool_east", "central": "tmall_pool_east", "north": "tmall_pool_east",
              "northwest": "tmall_pool_east", "south": "tmall_pool_south",
              "southwest": "tmall_pool_south"},
    "jd": {"north": "jd_pool_north", "northwest": "jd_pool_north", "central": "jd_pool_north",
           "east": "jd_pool_north"},
    "douyin": dict.fromkeys(REGIONS, "douyin_pool_east"),
}


def fulfilment_rows() -> list[tuple[str, str, str]]:
    """Fulfilment rules as (channel, region, location), encoding the channel conflict rules."""
    rows = []
    for ch in CHANNELS:
        for region in ch.regions:
            if ch.channel == "amazon_xb":
                rows.append((ch.channel, region, DC))
            elif ch.channel == "store_direct":
                rows.append((ch.channel, region, f"stores_{region}"))
            else:
                pool = _PLATFORM_POOL.get(ch.channel, {}).get(region)
                if pool:
                    rows.append((ch.channel, region, pool))
                rows.append((ch.channel, region, f"rdc_{region}"))
                if ch.channel == "distributor":
                    rows.append((ch.channel, region, DC))
    return rows


CATEGORIES = ("skincare", "makeup", "haircare", "bodycare", "fragrance", "oral_care", "gift_sets")
CATEGORY_SHARE = (0.24, 0.20, 0.15, 0.14, 0.10, 0.10, 0.07)
# yearly seasonality: (amplitude, day of year of the peak)
CATEGORY_SEASON = {
    "skincare": (0.20, 350), "makeup": (0.10, 130), "haircare": (0.05, 200),
    "bodycare": (0.35, 200), "fragrance": (0.25, 40), "oral_care": (0.03, 1),
    "gift_sets": (0.30, 20),
}
