"""The decision backtest: replay the nightly plan against what actually sold.

`backtest` replays the policies (`policies`) over the last N periods of the history with the
actual sales (`replay`) and returns its tables; `write_backtest` writes them atomically with
the page (`page`). ``omnistock backtest`` is the command line.
"""

from engine.backtesting.policies import POLICIES
from engine.backtesting.run import (
           BacktestResult,
           BacktestSettings,
           backtest,
           tradeoff,
           write_backtest,
)

__all__ = ["POLICIES", "BacktestResult", "BacktestSettings", "backtest", "tradeoff",
           "write_backtest"]
