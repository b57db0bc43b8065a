"""Purchase orders to suppliers, sized on echelon inventory positions.

Every location that buys (a DC, or a location no higher tier feeds; `engine.network`) orders
each SKU from its supplier when the SKU's **echelon inventory position** there is at or below
its echelon reorder point (``target_echelon_reorder_point``, `engine.stages.targets`):

- echelon inventory position = on hand + shipments in transit to + scheduled receipts (the
  ``supply`` table: open purchase orders and production) of the buying location and of every
  location it roots (whose chain of replenishment lanes starts there), minus their
  backorders. Moves between those locations leave it unchanged, so the purchase does not
  depend on tonight's deployment;
- the order brings the position up to the echelon order-up-to level
  (``target_echelon_order_up_to``): the demand of the streams below over the supplier lead
  time + the lead time down to their location + its review period, at the service level of
  their channels;
- the quantity is at least the supplier's MOQ, in whole packs (rounded up), and at most its
  ``max_units_per_period`` (whole packs, rounded down; the rest waits for the next night);
- the order is due after the supplier's lead time.

Purchases are rows of kind ``purchase`` in ``plan.parquet`` (origin: the supplier; destination:
the buying location). The simulation does not yet receive them (its DCs order by their own
(s, S) levels), nor are per-SKU supplier lead times in its kernel (one distribution per
location: the median of its SKUs').
"""

from __future__ import annotations

import numpy as np
import xarray as xr

from engine.network import index_of, root_location, supply_terms

PURCHASE_VARIABLES = ("purchase_sku", "purchase_supplier", "purchase_location",
                      "purchase_quantity", "purchase_lead_time", "purchase_reason")
"""Variables on the ``purchase`` dimension that `add_purchases` adds."""


def purchase_quantities(position: np.ndarray, reorder_point: np.ndarray,
                        order_up_to: np.ndarray, *, pack_size: np.ndarray, moq: np.ndarray,
                        max_units: np.ndarray) -> np.ndarray:
    """Units to order: ``order_up_to - position`` where ``position <= reorder_point``.

    Rounded up to whole packs and at least ``moq`` (rounded up to packs), then at most
    ``max_units`` rounded down to whole packs; 0 where no order is due or the cap is below one
    pack. All arguments broadcast together.
    """
    position, reorder_point, order_up_to, pack, moq, cap = np.broadcast_arrays(
        *(np.asarray(a, dtype=float) for a in (position, reorder_point, order_up_to,
                                                pack_size, moq, max_units)))
    pack = np.maximum(pack, 1.0)
    due = (position <= reorder_point) & (order_up_to > position)
    want = np.where(due, order_up_to - position, 0.0)
    want = np.where(due, np.maximum(want, moq), 0.0)
    packs = np.ceil(want / pack - 1e-9)
    cap_packs = np.floor(np.where(np.isfinite(cap), cap, np.inf) / pack + 1e-9)
    return np.minimum(packs, cap_packs) * pack


def inventory_positions(ds: xr.Dataset, backorders: np.ndarray | None = None) -> np.ndarray:
    """Inventory position of every (sku, location): on hand + shipments in transit to it +
    scheduled receipts (``supply``), minus ``backorders`` (units owed there) when given."""
    position = ds["on_hand"].values.astype(float).copy()
    for dim, at in (("shipment", "destination"), ("receipt", "location")):
        if ds.sizes.get(dim, 0):
            sku = index_of(ds, "sku", ds[f"{dim}_sku"].values)
            where = index_of(ds, "location", ds[f"{dim}_{at}"].values)
            np.add.at(position, (sku, where), ds[f"{dim}_quantity"].values.astype(float))
    if backorders is not None:
        position -= backorders
    return position


def echelon_positions(ds: xr.Dataset, backorders: np.ndarray | None = None) -> np.ndarray:
    """Echelon inventory position of every (sku, buying location), 0 elsewhere.

    Parameters
    ----------
    ds : xarray.Dataset
        The planning dataset (on hand, shipments in transit, scheduled receipts).
    backorders : numpy.ndarray, shape (sku, location), optional
        Units owed to customers at each location (a replay's state); none by default.
    """
    n_sku, n_loc = ds.sizes["sku"], ds.sizes["location"]
    installation = inventory_positions(ds, backorders)
    root = root_location(ds)
    out = np.zeros((n_sku, n_loc))
    np.add.at(out.T, root, installation.T)
    return out


def add_purchases(ds: xr.Dataset, *, supplier_lead_time_days: float,
                  supplier_lead_time_sd_days: float = 0.0,
                  backorders: np.ndarray | None = None) -> xr.Dataset:
    """Add tonight's purchase orders (module docstring) on the ``purchase`` dimension.

    Needs the targets stage's ``target_echelon_reorder_point`` and
    ``target_echelon_order_up_to``. Adds `PURCHASE_VARIABLES`: SKU, supplier, buying location,
    units, lead time in periods and the reason in the planner's words.
    """
    terms = supply_terms(ds, supplier_lead_time_days=supplier_lead_time_days,
                         supplier_lead_time_sd_days=supplier_lead_time_sd_days)
    position = echelon_positions(ds, backorders)
    reorder = ds["target_echelon_reorder_point"].values
    up_to = ds["target_echelon_order_up_to"].values
    # a location of capacity 0 is closed: it buys nothing (nor receives moves, `engine.stages.plan`)
    open_ = ds["location_capacity"].values[None, :] > 0
    quantity = np.where(terms.buys & open_, purchase_quantities(
        position, reorder, up_to, pack_size=terms.pack_size, moq=terms.moq,
        max_units=terms.max_units), 0.0)
    sku, location = np.nonzero(quantity > 0)
    reason = np.array([
        f"echelon position {position[s, c]:,.0f} at or below reorder point {reorder[s, c]:,.0f}"
        f"; order up to {up_to[s, c]:,.0f} (lead time {terms.lead_time[s, c]:g})"
        + (f"; capped at {terms.max_units[s, c]:,.0f} per period"
           if quantity[s, c] < up_to[s, c] - position[s, c] else "")
        for s, c in zip(sku, location, strict=True)], dtype=str)
    dim = "purchase"
    return ds.assign({
        "purchase_sku": (dim, ds["sku"].values[sku].astype(str)),
        "purchase_supplier": (dim, terms.supplier[sku, location].astype(str)),
        "purchase_location": (dim, ds["location"].values[location].astype(str)),
        "purchase_quantity": (dim, quantity[sku, location]),
        "purchase_lead_time": (dim, terms.lead_time[sku, location].astype(float)),
        "purchase_reason": (dim, reason.astype(str) if len(reason) else np.array([], str)),
    })
