"""The chat's widgets, one per file."""

from askseed.ui.tui.widgets.exchange_view import ExchangeView
from askseed.ui.tui.widgets.history_input import HistoryInput
from askseed.ui.tui.widgets.passage_view import PassageView
from askseed.ui.tui.widgets.status_bar import StatusBar, describe_status

__all__ = ["ExchangeView", "HistoryInput", "PassageView", "StatusBar", "describe_status"]
